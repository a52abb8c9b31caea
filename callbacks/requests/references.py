"""The reference a patient quotes: random, short, unambiguous, not derived from the row's id."""

import secrets

# Crockford's alphabet without the letters read aloud wrongly over the phone (I, L, O, U).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 5


def reference_generate(prefix: str = "CB") -> str:
    """A short reference such as CB-7KQ2M: random, so it says nothing about the id or the request count."""
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
