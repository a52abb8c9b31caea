"""How a member of staff is named on the screens and in a request's history."""

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
