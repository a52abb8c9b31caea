"""The privacy log, the permissions to download or erase one patient's data, and the "Privacy officer" group.

The log is append-only like a request's history: the model refuses changes and the database refuses an UPDATE
(the trigger function comes from 0003). The group can read the log, open a request, and download or erase a
patient's data; the Triage staff group gets none of this.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

LOG_TABLE = "callbacks_privacylogentry"
MESSAGE = "append-only table: rows cannot be changed"
GROUP = "Privacy officer"
PERMISSIONS = [
    ("callbacks", "view_privacylogentry"),
    ("callbacks", "view_callbackrequest"),
    ("callbacks", "export_patient_data"),
    ("callbacks", "erase_patient_data"),
]


def log_refuse_update(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {LOG_TABLE}_no_update BEFORE UPDATE ON {LOG_TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION callbacks_refuse_update()"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {LOG_TABLE}_no_update BEFORE UPDATE ON {LOG_TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def log_allow_update(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {LOG_TABLE}_no_update ON {LOG_TABLE}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {LOG_TABLE}_no_update")


def group_create(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in PERMISSIONS
        ]
    )


def group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0004_triage_staff_group"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterField(
            model_name="requestevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("assigned", "Assignment"),
                    ("status", "Status change"),
                    ("call", "Call attempt"),
                    ("note", "Note"),
                    ("scheduled", "Next attempt scheduled"),
                    ("edited", "Edit"),
                    ("exported", "Patient data downloaded"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterModelOptions(
            name="callbackrequest",
            options={
                "ordering": ["priority", "deadline", "created_at"],
                "permissions": [
                    ("export_callbackrequest", "Can export callback requests as CSV"),
                    ("export_patient_data", "Can download one patient's data"),
                    ("erase_patient_data", "Can erase one patient's data"),
                ],
            },
        ),
        migrations.CreateModel(
            name="PrivacyLogEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("viewed", "Viewed health details"),
                            ("exported", "Exported patient data"),
                            ("erased", "Erased patient data"),
                            ("purged", "Purged by retention"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "reference",
                    models.CharField(blank=True, help_text="Empty for a retention purge run.", max_length=12),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "count",
                    models.PositiveIntegerField(blank=True, help_text="Requests deleted by a purge run.", null=True),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "privacy log entry",
                "verbose_name_plural": "privacy log",
                "ordering": ["-at", "-pk"],
                "abstract": False,
                "default_permissions": ("add", "view"),
                "indexes": [
                    models.Index(fields=["reference", "at"], name="cb_privacy_reference"),
                    models.Index(fields=["at"], name="cb_privacy_at"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("action", "purged"), ("count__isnull", False), ("reference", "")),
                            models.Q(
                                models.Q(("action", "purged"), _negated=True),
                                ("count__isnull", True),
                                models.Q(("reference", ""), _negated=True),
                                ("actor__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="cb_privacy_entry_shape",
                    )
                ],
            },
        ),
        migrations.RunPython(log_refuse_update, log_allow_update, elidable=False),
        migrations.RunPython(group_create, group_delete),
    ]
