"""The privacy log's "reported" action also covers reading the outcome report on the staff page, not only
downloading it: its label says so. No row changes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0019_privacy_officer_waitlist_grant'),
    ]

    operations = [
        migrations.AlterField(
            model_name='privacylogentry',
            name='action',
            field=models.CharField(choices=[('viewed', 'Viewed health details'), ('listed', 'Listed with name or priority on a staff page'), ('exported', 'Exported patient data'), ('erased', 'Erased patient data'), ('purged', 'Purged by retention'), ('reported', 'Read or exported the outcome report')], max_length=10),
        ),
    ]
