"""Phone numbers as people type them, normalised to E.164 in the clinic's region."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def phone_example(region: str | None = None) -> str:
    example = phonenumbers.example_number_for_type(
        region or settings.CLINIC_DEFAULT_REGION, phonenumbers.PhoneNumberType.MOBILE
    )
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL) if example else ""


def phone_to_e164(raw: str, *, region: str | None = None) -> str:
    """Normalise a phone number as a person types it ("07400 123456", "+44 7400-123456") to E.164.

    Numbers without a country code are read in the clinic's region. Raises ValidationError with a message
    meant for the patient.
    """
    region = region or settings.CLINIC_DEFAULT_REGION
    message = f"Enter a phone number we can call, for example {phone_example(region)}."
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(message, code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(message, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_variants(raw: str) -> set[str]:
    """The E.164 forms a fragment typed by staff could mean, for searching stored numbers."""
    try:
        return {phone_to_e164(raw)}
    except ValidationError:
        return set()
