"""How a member of staff is named on the screens and in a request's history, and when wrong sign-in codes on a
staff account are worth telling its owner and the administrators."""

from typing import Any


def staff_display_name(user: Any, *, with_username: bool = False) -> str:
    """The full name, or the username when there is none; empty for no user.

    ``with_username`` is the history's form, which must tell two people of the same name apart:
    "Jane Doe (jdoe)", or just "jdoe".
    """
    if user is None:
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    if with_username:
        return f"{full_name} ({user.get_username()})" if full_name else user.get_username()
    return full_name or user.get_username()


def wrong_codes_alert_due(*, before: int, after: int, every: int) -> bool:
    """True when an account's count of wrong authenticator codes in a row went from ``before`` to ``after`` past
    a multiple of ``every``: the owner and the administrators hear at ``every`` wrong codes, and again at each
    further ``every``, never once per attempt (django-otp's growing wait makes each further ``every`` slower to
    reach). ``every`` of 0 tells nobody."""
    if every <= 0 or after <= before:
        return False
    return after // every > before // every
