"""The "Privacy officer" group sees the waitlist (an entry and its offers) so that it can erase an entry, as the
README promises: the erase action needs the erasure permission, which the group had, but the list needed the view
permission, which it had not (403)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Privacy officer"
CODENAMES = ["view_waitlistentry", "view_waitlistoffer"]


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the grant needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="callbacks", codename__in=CODENAMES))


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*group.permissions.filter(codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0018_outcome_report_grant")]

    operations = [migrations.RunPython(forwards, backwards)]
