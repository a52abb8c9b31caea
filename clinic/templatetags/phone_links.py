"""Tap-to-call: the one home of a phone number's `tel:` address and link on the public pages."""

import re

import phonenumbers
from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def tel_href(number: str) -> str:
    """`tel:` and the number in E.164 when it is a full number of the clinic's region (or has a country code),
    else its digits (999, 111 and other short codes are dialled as they are)."""
    text = str(number)
    try:
        parsed = phonenumbers.parse(text, settings.CLINIC_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    plus = "+" if text.strip().startswith("+") else ""
    return "tel:" + plus + re.sub(r"\D", "", text)


@register.filter
def tel_link(number: str, css_class: str = "") -> SafeString:
    """The number as written, as a link that calls it."""
    if css_class:
        return format_html('<a class="{}" href="{}">{}</a>', css_class, tel_href(number), number)
    return format_html('<a href="{}">{}</a>', tel_href(number), number)


@register.filter
def tel_links(text: str) -> SafeString:
    """The text, escaped, with each mention of the emergency, urgent advice or clinic number made a link: for
    advice written in settings ("Call 999 now, ...")."""
    numbers = sorted(
        {settings.CLINIC_EMERGENCY_NUMBER, settings.CLINIC_URGENT_ADVICE_NUMBER, settings.CLINIC_PHONE} - {""},
        key=len,
        reverse=True,
    )
    # Whole numbers only ("111" is not linked inside "01110"), the longest first; split() keeps the numbers found.
    pattern = re.compile(r"(?<![\w+])(" + "|".join(re.escape(number) for number in numbers) + r")(?!\w)")
    pieces = pattern.split(str(text)) if numbers else [str(text)]
    return format_html_join("", "{}", ((tel_link(piece) if i % 2 else piece,) for i, piece in enumerate(pieces)))
