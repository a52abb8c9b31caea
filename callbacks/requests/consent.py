"""The consent text a patient agrees to, versioned: a stored request keeps the version and a hash of its text.

A new wording gets a new version; an old version is never edited, since stored requests point at it.
"""

import hashlib

CONSENT_TEXTS = {
    "2026-11-1": (
        "I agree that the clinic may store and use the health information I give in this form to assess my "
        "back problem and contact me about it, as described in the privacy notice. I can withdraw this consent "
        "and ask for my information to be deleted at any time."
    ),
}
CURRENT_CONSENT_VERSION = "2026-11-1"


def consent_text(version: str = CURRENT_CONSENT_VERSION) -> str:
    return CONSENT_TEXTS[version]


def consent_text_sha256(version: str = CURRENT_CONSENT_VERSION) -> str:
    return hashlib.sha256(consent_text(version).encode()).hexdigest()
