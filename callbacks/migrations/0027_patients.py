"""One patient across many requests (issue 26, item 1): the patients, each request's patient, the history of
links; the requests already stored get their patients by the matching rule's grouping (phone number and name,
set-based SQL on PostgreSQL: `callbacks.patients.backfill`); the Triage staff see patients and link requests to
them, the Privacy officer sees them.

Reversible: going back drops the patients, the link history and the requests' column (the requests stay)."""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import phonenumber_field.modelfields
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import callbacks.models.requests

GRANTS = {
    "Triage staff": ["view_patient", "change_patient", "view_patientlinkevent"],
    "Privacy officer": ["view_patient", "view_patientlinkevent"],
}


def patients_for_stored_requests(apps, schema_editor):
    from callbacks.patients.backfill import patients_backfill

    patients_backfill(schema_editor.connection)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the grant needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="callbacks", codename__in=codenames))


def ungrant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*group.permissions.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0026_capacity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Patient",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120)),
                ("name_key", models.CharField(editable=False, max_length=120)),
                (
                    "phone",
                    phonenumber_field.modelfields.PhoneNumberField(
                        help_text="E.164, e.g. +447400123456", max_length=20, region=None
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                "ordering": ["-pk"],
                "indexes": [
                    models.Index(fields=["phone", "name_key"], name="cb_patient_match"),
                    callbacks.models.requests.PostgresTrigramIndex(
                        django.db.models.functions.text.Upper("name"), name="cb_patient_name_trgm"
                    ),
                    callbacks.models.requests.PostgresTrigramIndex(
                        django.db.models.functions.text.Upper("phone"), name="cb_patient_phone_trgm"
                    ),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("phone__regex", "^\\+[1-9][0-9]{6,14}$")), name="cb_patient_phone_e164"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="callbackrequest",
            name="patient_record",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="requests",
                to="callbacks.patient",
            ),
        ),
        migrations.CreateModel(
            name="PatientLinkEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("patient_number", models.CharField(max_length=12)),
                ("previous_number", models.CharField(blank=True, max_length=12)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("matched", "Linked by itself (same phone number and name)"),
                            ("new", "New patient"),
                            ("linked", "Linked by staff"),
                            ("unlinked", "Unlinked by staff (a patient of its own)"),
                            ("not_same", "Not the same person"),
                        ],
                        max_length=10,
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
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
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="link_events",
                        to="callbacks.patient",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="patient_events",
                        to="callbacks.callbackrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "abstract": False,
                "default_permissions": ("add", "view"),
                "indexes": [
                    models.Index(fields=["request", "at"], name="cb_patient_event_request"),
                    models.Index(fields=["patient", "at"], name="cb_patient_event_patient"),
                ],
            },
        ),
        migrations.RunPython(patients_for_stored_requests, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(grant, ungrant),
    ]
