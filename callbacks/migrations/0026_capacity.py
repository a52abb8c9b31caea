"""Capacity for online callback requests (issue 24, item 8): the hours, the daily cap and the pause staff set,
and the per-day counter the cap is checked against. "Triage staff" (the front desk, who know first that the
clinic is full) may see and change them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import callbacks.models.capacity

GRANTS = {"Triage staff": [("callbacks", "view_intakecapacity"), ("callbacks", "change_intakecapacity")]}


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in names]


def grants_add(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, permissions in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, permissions))


def grants_remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, permissions in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, permissions))


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0025_appointment_calendar_sequence"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestDayCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True)),
                ("routine", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="IntakeCapacity",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                (
                    "hours",
                    models.CharField(
                        blank=True,
                        help_text='Per weekday, in the clinic\'s time, e.g. "mon-fri 08:00-17:00; sat 09:00-12:00". '
                        "Days not listed are closed. Leave empty to take requests at any time.",
                        max_length=200,
                        validators=[callbacks.models.capacity.validate_request_hours],
                        verbose_name="hours online requests are taken",
                    ),
                ),
                (
                    "daily_cap",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The most routine online requests taken each day (midnight to midnight). "
                        "Urgent and emergency requests are never refused and not counted. Leave empty for no limit.",
                        null=True,
                        verbose_name="routine requests per day",
                    ),
                ),
                (
                    "suspended_from",
                    models.DateTimeField(
                        blank=True, help_text="Empty: at once.", null=True, verbose_name="paused from"
                    ),
                ),
                (
                    "suspended_until",
                    models.DateTimeField(
                        blank=True,
                        help_text="Online requests open again at this time. Empty: no pause.",
                        null=True,
                        verbose_name="paused until",
                    ),
                ),
                (
                    "suspension_reason",
                    models.CharField(
                        blank=True,
                        help_text='Shown to patients, e.g. "Our team is at a training day". No patient details.',
                        max_length=160,
                        verbose_name="reason for the pause",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "online request capacity",
                "verbose_name_plural": "online request capacity",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="cb_capacity_single_row"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("suspended_from__isnull", True),
                            ("suspended_until__isnull", True),
                            ("suspended_until__gt", models.F("suspended_from")),
                            _connector="OR",
                        ),
                        name="cb_capacity_pause_order",
                    ),
                ],
            },
        ),
        migrations.RunPython(grants_add, grants_remove),
    ]
