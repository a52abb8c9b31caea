"""Attendance marks on appointments, the first contact's time on requests (for the attendance figures), and the
outcome follow-ups timed from the first attended visit.

Follow-ups already scheduled and not sent when this runs: a patient whose booked visits are all still ahead has
not been seen, so theirs are withdrawn (the first attended mark writes them again, timed from that visit). A
patient with a visit in the past keeps theirs: attendance was not recorded then, and they were most likely seen.
A request's first contact is the earliest call logged as reached.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

# Adding fields to the appointment table makes SQLite rebuild it, which drops the no-overlap triggers of
# 0006_booking: they are created again at the end (a no-op on PostgreSQL, whose exclusion constraint survives).
booking_migration = importlib.import_module("callbacks.migrations.0006_booking")


def first_contact_backfill(apps, schema_editor):
    CallbackRequest = apps.get_model("callbacks", "CallbackRequest")
    CallAttempt = apps.get_model("callbacks", "CallAttempt")
    first = (
        CallAttempt.objects.filter(request=OuterRef("pk"), outcome="reached")
        .values("request")
        .annotate(first=Min("made_at"))
        .values("first")
    )
    CallbackRequest.objects.filter(call_attempts__outcome="reached").update(first_contact_at=Subquery(first))


def unseen_follow_ups_withdraw(apps, schema_editor):
    FollowUp = apps.get_model("callbacks", "FollowUp")
    Appointment = apps.get_model("callbacks", "Appointment")
    now = timezone.now()
    holding = ("requested", "confirmed")
    seen_or_past = Appointment.objects.filter(status__in=holding, starts_at__lte=now).values("request_id")
    ahead = Appointment.objects.filter(status__in=holding, starts_at__gt=now).values("request_id")
    FollowUp.objects.filter(status="scheduled", request_id__in=ahead).exclude(request_id__in=seen_or_past).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0028_desk_cancel_undo'),
        ('intake', '0003_response_versions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='appointment',
            name='attendance',
            field=models.CharField(blank=True, choices=[('arrived', 'Arrived'), ('attended', 'Attended'), ('dna', 'Did not attend'), ('late_cancel', 'Cancelled late')], default='', max_length=12),
        ),
        migrations.AddField(
            model_name='appointment',
            name='attendance_marked_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='appointment',
            name='attendance_marked_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='callbackrequest',
            name='first_contact_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='privacylogentry',
            name='action',
            field=models.CharField(choices=[('viewed', 'Viewed health details'), ('listed', 'Listed with name or priority on a staff page'), ('exported', 'Exported patient data'), ('erased', 'Erased patient data'), ('purged', 'Purged by retention'), ('reported', 'Read or exported the outcome report'), ('follow_up', 'Sent a follow-up questionnaire on request')], max_length=10),
        ),
        migrations.AlterField(
            model_name='requestevent',
            name='action',
            field=models.CharField(choices=[('assigned', 'Assignment'), ('status', 'Status change'), ('call', 'Call attempt'), ('note', 'Note'), ('scheduled', 'Next attempt scheduled'), ('edited', 'Edit'), ('exported', 'Patient data downloaded'), ('follow_up', 'Outcome follow-up'), ('attendance', 'Attendance')], max_length=12),
        ),
        migrations.AddIndex(
            model_name='appointment',
            index=models.Index(fields=['starts_at', 'service', 'attendance'], name='cb_appointment_attendance'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=models.Index(fields=['created_at', 'first_contact_at', 'id'], name='cb_first_contact'),
        ),
        migrations.RunPython(first_contact_backfill, migrations.RunPython.noop),
        migrations.RunPython(unseen_follow_ups_withdraw, migrations.RunPython.noop),
        migrations.RunPython(booking_migration.sqlite_triggers_create, migrations.RunPython.noop),
    ]
