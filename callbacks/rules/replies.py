"""What a patient's text reply asks for: the one home of the reply keywords.

A reply is read as a keyword only when the whole text is one (letters' case, spaces and punctuation around it do
not matter: "yes.", " C ", "Stop!" and "stop all" are keywords; "yes but can I come later?" is not). Anything
else is a message for staff.

The sets are small on purpose: a patient's words are never guessed at. "CANCEL" cancels the appointment here
(the clinic's texts say "reply X or CANCEL to cancel"), so it is not one of the opt-out words, although some
carriers (in the United States) and Twilio's default opt-out list treat it as one: a clinic there keeps CANCEL
out of its Messaging Service's opt-out keywords, or tells patients X only. "YES" confirms an appointment here,
so it is not a word that resumes texts (Twilio's default list counts it as one): START and UNSTOP resume.
"""

import re

from django.db import models


class ReplyIntent(models.TextChoices):
    CONFIRM = "confirm", "Confirm the appointment"
    CANCEL = "cancel", "Cancel the appointment"
    STOP = "stop", "Stop texts"
    START = "start", "Start texts again"
    OTHER = "other", "Message for staff"


REPLY_KEYWORDS: dict[str, ReplyIntent] = {
    **dict.fromkeys(("C", "Y", "YES", "CONFIRM", "CONFIRMED"), ReplyIntent.CONFIRM),
    **dict.fromkeys(("X", "CANCEL"), ReplyIntent.CANCEL),
    # The opt-out words carriers and providers honour (CTIA's list, less CANCEL: see above).
    **dict.fromkeys(
        ("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "END", "QUIT", "OPTOUT", "OPT OUT"), ReplyIntent.STOP
    ),
    **dict.fromkeys(("START", "UNSTOP"), ReplyIntent.START),
}

# Everything but letters, digits and spaces at either end ("yes.", "'C'", "stop!!", an emoji after "X").
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")


def reply_intent(body: str) -> ReplyIntent:
    """What the text ``body`` asks for: a keyword's intent, or OTHER (a message for staff)."""
    word = _SPACES.sub(" ", _EDGES.sub("", (body or "").strip())).upper()
    return REPLY_KEYWORDS.get(word, ReplyIntent.OTHER)
