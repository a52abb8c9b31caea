"""The front desk ("Triage staff") sees the waitlist and can take a patient off it, and records the clinic's
closure days; setting up a practitioner's hours (and copying them) stays with those who may change
practitioners."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Triage staff": [
        ("callbacks", "view_waitlistentry"),
        ("callbacks", "change_waitlistentry"),
        ("callbacks", "view_waitlistoffer"),
        ("callbacks", "view_clinicclosure"),
        ("callbacks", "add_clinicclosure"),
        ("callbacks", "change_clinicclosure"),
        ("callbacks", "delete_clinicclosure"),
    ],
}


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
    dependencies = [("callbacks", "0009_phone_e164")]

    operations = [migrations.RunPython(grants_add, grants_remove)]
