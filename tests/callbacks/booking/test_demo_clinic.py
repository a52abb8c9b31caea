"""`load_demo_clinic`: a fresh `make run` can book at once, with demo data that says it is demo data."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.slots import services_bookable, slots_free
from callbacks.models import Practitioner, Service, WorkingHours

pytestmark = pytest.mark.django_db


def test_the_demo_clinic_makes_booking_work_and_is_marked_as_demo(client, django_capture_on_commit_callbacks):
    # On PostgreSQL too (the refusal is tested below): what is loaded is the same.
    assert reverse("callbacks:booking_services") not in client.get(reverse("home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the stored public pages go stale on commit
        call_command("load_demo_clinic", "--allow-any-database", stdout=io.StringIO())
    [service] = services_bookable()
    assert "demo" in service.name.lower() and "demo" in service.description.lower()
    assert Practitioner.objects.count() == 2
    assert all(name.startswith("Demo ") for name in Practitioner.objects.values_list("name", flat=True))
    assert WorkingHours.objects.count() == 8
    assert slots_free(service=service, first_day=timezone.localdate(), days=14), "free times to book"
    home = client.get(reverse("home")).content.decode()
    assert reverse("callbacks:booking_services") in home
    # Run again (every `make run`): nothing is added twice, and a clinic's own services are never touched.
    out = io.StringIO()
    call_command("load_demo_clinic", "--allow-any-database", stdout=out)
    assert "no demo data added" in out.getvalue()
    assert Service.objects.count() == 1 and Practitioner.objects.count() == 2


def test_the_demo_clinic_is_refused_outside_the_embedded_database(settings):
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "ENGINE": "django.db.backends.postgresql"}}
    with pytest.raises(CommandError, match="embedded defaults"):
        call_command("load_demo_clinic", stdout=io.StringIO())
