"""E.164 is an invariant of the stored row, whatever a writer hands the model."""

import pytest
from django.db import IntegrityError, transaction

from callbacks.models import CallbackRequest
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("given", ["07400 123456", "+44 7400-123456", "+447400123456"])
def test_a_number_is_stored_in_e164(given):
    request = CallbackRequestFactory(phone=given)
    assert CallbackRequest.objects.filter(pk=request.pk).values_list("phone", flat=True).get() == "+447400123456"
    assert CallbackRequest.objects.filter(phone="07400 123456").get() == request
    assert str(CallbackRequest.objects.get(pk=request.pk).phone) == "+447400123456"


@pytest.mark.parametrize("given", ["12", "call me maybe", "0740"])
def test_the_database_refuses_a_number_that_is_not_e164(given):
    with pytest.raises(IntegrityError), transaction.atomic():
        CallbackRequestFactory(phone=given)
    assert not CallbackRequest.objects.exists()
