"""Who a change made by the patient themselves is recorded as, in the request's history."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

# What a patient changes by a signed link (cancelling a confirmed appointment) is recorded in the request's
# history like staff changes, under this account: inactive and without a password, so nobody signs in with it.
PATIENT_LINK_USERNAME = "patient-signed-link"


def patient_link_actor() -> AbstractBaseUser:
    user, created = get_user_model().objects.get_or_create(
        username=PATIENT_LINK_USERNAME,
        defaults={"first_name": "The patient", "last_name": "(by their link)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
