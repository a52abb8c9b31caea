"""The consent text a patient agrees to, versioned: a stored request keeps the version and a hash of its text.

A new wording gets a new version; an old version is never edited, since stored requests point at it.
"""

import hashlib

# version -> (label, hint): the short sentence beside the box, and the plain detail under it (tied to the box by
# aria-describedby). Together they are the text the patient agrees to, which is what is stored and hashed.
CONSENT_WORDINGS = {
    "2026-11-1": (
        "I agree that the clinic may store and use the health information I give in this form to assess my "
        "back problem and contact me about it, as described in the privacy notice. I can withdraw this consent "
        "and ask for my information to be deleted at any time.",
        "",
    ),
    # Issue 24: one 60-word sentence was too long for a label; the same promise, split and in plainer words.
    "2026-12-1": (
        "I agree that the clinic may keep and use what I tell it here.",
        "We use it only to look into your back problem and to contact you about it. You can change your mind at "
        "any time and ask us to delete it.",
    ),
}
CONSENT_TEXTS = {version: " ".join(part for part in wording if part) for version, wording in CONSENT_WORDINGS.items()}
CURRENT_CONSENT_VERSION = "2026-12-1"


def consent_text(version: str = CURRENT_CONSENT_VERSION) -> str:
    return CONSENT_TEXTS[version]


def consent_label(version: str = CURRENT_CONSENT_VERSION) -> str:
    return CONSENT_WORDINGS[version][0]


def consent_hint(version: str = CURRENT_CONSENT_VERSION) -> str:
    return CONSENT_WORDINGS[version][1]


def consent_text_sha256(version: str = CURRENT_CONSENT_VERSION) -> str:
    return hashlib.sha256(consent_text(version).encode()).hexdigest()


# The patient's choice of text messages on the details page: versioned like the data consent, and the version
# shown is stored with the time (`CallbackRequest.text_consent_version`). (label, hint) as above.
TEXT_CONSENT_WORDINGS = {
    "2026-12-texts-1": (
        "Send me text messages about my request",
        "Your reference, when we will call, and changes and reminders of any appointment. Never anything about "
        "your health. Reply STOP to any of them to end them.",
    ),
}
CURRENT_TEXT_CONSENT_VERSION = "2026-12-texts-1"


def text_consent_label(version: str = CURRENT_TEXT_CONSENT_VERSION) -> str:
    return TEXT_CONSENT_WORDINGS[version][0]


def text_consent_hint(version: str = CURRENT_TEXT_CONSENT_VERSION) -> str:
    return TEXT_CONSENT_WORDINGS[version][1]
