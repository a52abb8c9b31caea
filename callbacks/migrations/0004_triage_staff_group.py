"""The "Triage staff" group: what front-desk staff and physiotherapists need to work the queue, nothing more.

They can read requests and their notifications and history, work on requests through the workflow (which
needs "change callback request"), log calls and add notes. They cannot delete requests, export them, resend
notifications or manage accounts; an administrator grants those one by one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Triage staff"
PERMISSIONS = [
    ("callbacks", "view_callbackrequest"),
    ("callbacks", "change_callbackrequest"),
    ("callbacks", "view_callattempt"),
    ("callbacks", "add_callattempt"),
    ("callbacks", "view_staffnote"),
    ("callbacks", "add_staffnote"),
    ("callbacks", "view_requestevent"),
    ("callbacks", "view_notification"),
]


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations have run; this group needs them now.
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


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0003_history_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
