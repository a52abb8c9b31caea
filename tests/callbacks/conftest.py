"""Shared by the callbacks tests: a service and a practitioner who offers it every day, 09:00-17:00 clinic time."""

import datetime as dt

import pytest

from callbacks.models import Practitioner, Service, WorkingHours


@pytest.fixture
def service():
    return Service.objects.create(name="Initial assessment", duration_minutes=45)


@pytest.fixture
def practitioner(service):
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    return practitioner
