"""The outcome report's permission, and the privacy log's entry for an export of it (naming its period).

SQLite rebuilds the privacy log's table to change its constraint, which drops the trigger refusing UPDATEs, so
it is made again here (with 0005's own function); on PostgreSQL the table is altered in place and keeps it.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

privacy_0005 = importlib.import_module("callbacks.migrations.0005_privacy")


def sqlite_log_refuse_update_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        privacy_0005.log_allow_update(apps, schema_editor)
        privacy_0005.log_refuse_update(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0016_follow_up_history'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='callbackrequest',
            options={'ordering': ['priority', 'deadline', 'created_at'], 'permissions': [('export_callbackrequest', 'Can export callback requests as CSV'), ('export_patient_data', "Can download one patient's data"), ('erase_patient_data', "Can erase one patient's data"), ('view_consent_proof', 'Can see the hash of the consent text a patient agreed to'), ('view_outcome_report', "Can see the clinic's outcome report (figures, no patient named)")]},
        ),
        migrations.RemoveConstraint(
            model_name='privacylogentry',
            name='cb_privacy_entry_shape',
        ),
        migrations.AddField(
            model_name='privacylogentry',
            name='detail',
            field=models.CharField(blank=True, default='', help_text='What an entry about no single request covered.', max_length=60),
        ),
        migrations.AlterField(
            model_name='privacylogentry',
            name='action',
            field=models.CharField(choices=[('viewed', 'Viewed health details'), ('listed', 'Listed with name or priority on a staff page'), ('exported', 'Exported patient data'), ('erased', 'Erased patient data'), ('purged', 'Purged by retention'), ('reported', 'Exported the outcome report')], max_length=10),
        ),
        migrations.AddConstraint(
            model_name='privacylogentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('action', 'purged'), ('count__isnull', False), ('detail', ''), ('reference', '')), models.Q(('action', 'reported'), ('actor__isnull', False), ('count__isnull', True), ('reference', ''), models.Q(('detail', ''), _negated=True)), models.Q(models.Q(('action__in', ['purged', 'reported']), _negated=True), ('actor__isnull', False), ('count__isnull', True), ('detail', ''), models.Q(('reference', ''), _negated=True)), _connector='OR'), name='cb_privacy_entry_shape'),
        ),
        migrations.RunPython(sqlite_log_refuse_update_again, migrations.RunPython.noop, elidable=False),
    ]
