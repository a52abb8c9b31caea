"""The "Triage staff" group may read the outcome report: figures per clinic, practitioner and service, no
patient named. Downloading it as CSV still needs the export permission, which the group does not have."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Triage staff"
CODENAME = "view_outcome_report"


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the grant needs this one now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(Permission.objects.get(content_type__app_label="callbacks", codename=CODENAME))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*group.permissions.filter(codename=CODENAME))


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0017_outcome_report")]

    operations = [migrations.RunPython(forwards, backwards)]
