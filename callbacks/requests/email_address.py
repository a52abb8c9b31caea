"""Which e-mail addresses a patient may give: ones on the public internet that the clinic's mail can reach.

Django's EmailValidator accepts `x@localhost` and address literals such as `x@[127.0.0.1]`: mail sent there
goes to the mail server itself or to an address on the clinic's network, never to a patient. `email_address_check`
is the one check (Django's and ours), so an address wrong both ways gets one message, not the same one twice.
"""

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

EMAIL_NOT_PUBLIC_MESSAGE = "Enter an e-mail address like name@example.com, or leave it empty."
# Names that never lead out of the local network (RFC 6761, RFC 6762, RFC 8375 and common home-router names).
LOCAL_ONLY_SUFFIXES = ("localhost", "local", "localdomain", "internal", "invalid", "lan", "home", "home.arpa", "arpa")


def email_address_check(value: str) -> None:
    """ValidationError (one message) unless the address is an e-mail address whose domain is a public internet
    name (a dot, no IP, no local name)."""
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(EMAIL_NOT_PUBLIC_MESSAGE, code="invalid") from None
    domain = value.rpartition("@")[2].strip().rstrip(".").lower()
    if domain.startswith("[") or not domain or "." not in domain:
        raise ValidationError(EMAIL_NOT_PUBLIC_MESSAGE, code="invalid")
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        pass
    else:
        raise ValidationError(EMAIL_NOT_PUBLIC_MESSAGE, code="invalid")
    if any(domain == suffix or domain.endswith("." + suffix) for suffix in LOCAL_ONLY_SUFFIXES):
        raise ValidationError(EMAIL_NOT_PUBLIC_MESSAGE, code="invalid")
