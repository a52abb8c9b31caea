from django.db import migrations, models


# The attendance figures' per-day rollup (callbacks.booking.attendance_days). Created empty: counting a year of days
# here would hold the migration for minutes at a million requests; the release step, the beat job and the pages
# count them.
class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0034_notification_text_body"),
    ]

    operations = [
        migrations.CreateModel(
            name="AttendanceDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True)),
                ("figures", models.JSONField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "attendance day",
            },
        ),
        migrations.CreateModel(
            name="AttendanceDayChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(db_index=True)),
            ],
            options={
                "verbose_name": "attendance day change",
            },
        ),
    ]
