"""The front desk's day: consent given by phone (and who heard it), the practitioners' calendar feeds, the
clinic's own cancellation e-mail, and the permissions the desk needs for booking and the diary.

"Triage staff" may now read services, practitioners and their hours, and book, confirm, decline, move and
cancel appointments; the "Privacy officer" group alone sees the hash of the consent text.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GRANTS = {
    "Triage staff": [
        ("callbacks", "view_service"),
        ("callbacks", "view_practitioner"),
        ("callbacks", "view_workinghours"),
        ("callbacks", "view_availabilityexception"),
        ("callbacks", "view_appointment"),
        ("callbacks", "add_appointment"),
        ("callbacks", "change_appointment"),
    ],
    "Privacy officer": [("callbacks", "view_consent_proof")],
}


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in names]


def grants_add(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the groups need them now.
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
        ("callbacks", "0006_booking"),
        ("intake", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="callbackrequest",
            options={
                "ordering": ["priority", "deadline", "created_at"],
                "permissions": [
                    ("export_callbackrequest", "Can export callback requests as CSV"),
                    ("export_patient_data", "Can download one patient's data"),
                    ("erase_patient_data", "Can erase one patient's data"),
                    ("view_consent_proof", "Can see the hash of the consent text a patient agreed to"),
                ],
            },
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="consent_method",
            field=models.CharField(
                choices=[
                    ("online", "Online, by the patient (ticked on the form)"),
                    ("phone", "By phone, told to a member of staff"),
                ],
                default="online",
                max_length=10,
                verbose_name="consent given",
            ),
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="consent_recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="practitioner",
            name="calendar_feed_digest",
            field=models.CharField(blank=True, db_default="", db_index=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("staff_new", "New request (staff)"),
                    ("patient_confirmation", "Confirmation (patient)"),
                    ("escalation", "Overdue escalation (staff)"),
                    ("booking_confirmed", "Appointment confirmed (patient)"),
                    ("booking_declined", "Appointment declined (patient)"),
                    ("booking_reminder", "Appointment reminder (patient)"),
                    ("booking_cancelled", "Appointment cancelled by the patient (staff)"),
                    ("booking_cancelled_clinic", "Appointment cancelled by the clinic (patient)"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddConstraint(
            model_name="callbackrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("consent_method", "online"), ("consent_recorded_by__isnull", False), _connector="OR"
                ),
                name="cb_phone_consent_recorded_by",
            ),
        ),
        migrations.RunPython(grants_add, grants_remove),
    ]
