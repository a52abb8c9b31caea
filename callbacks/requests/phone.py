"""Phone numbers as people type them, normalised to E.164 in the clinic's region."""

import re

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


# Relay UK: a caller who types rather than speaks is reached by dialling 18001 (text phone) or 18002 (the Relay UK
# app) before the number. A patient who writes their number with the prefix needs it kept.
TEXT_RELAY_PREFIXES = ("18001", "18002")
_RELAY = re.compile(r"^\s*(18001|18002)[\s\-.]*(.+)$")


def phone_relay_split(raw: str, *, region: str | None = None) -> tuple[str, str]:
    """Split a UK text-relay prefix off a number as typed: ("18001", "07400 123456") for "18001 07400 123456",
    ("", raw) for a number without one. Only in a UK clinic (Relay UK is British; in North America 1 800 is a
    free-phone code), and only when what follows the prefix is a valid number."""
    match = _RELAY.match(raw or "")
    region = region or settings.CLINIC_DEFAULT_REGION
    if match is None or region != "GB" or not _valid(match.group(2), region):
        return "", raw
    return match.group(1), match.group(2).strip()


def _valid(raw: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, region))
    except phonenumbers.NumberParseException:
        return False


def phone_to_dial(phone, relay_prefix: str = "") -> str:
    """The number staff dial: with a text-relay prefix, the prefix then the number as dialled at home (national
    format, "18001 07400 123456"); otherwise the number as stored."""
    if not relay_prefix:
        return str(phone)
    number = phonenumbers.parse(str(phone), None)
    return f"{relay_prefix} {phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)}"
