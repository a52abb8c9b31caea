"""Issue 25, item 4: what a patient's text reply asks for (`callbacks.rules.replies`), table-driven."""

import pytest

from callbacks.rules.replies import ReplyIntent, reply_intent

CONFIRM, CANCEL, STOP, START, OTHER = (
    ReplyIntent.CONFIRM,
    ReplyIntent.CANCEL,
    ReplyIntent.STOP,
    ReplyIntent.START,
    ReplyIntent.OTHER,
)


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        # Confirm: the letter and the words, any case, spaces and punctuation around them.
        ("C", CONFIRM),
        ("c", CONFIRM),
        (" C ", CONFIRM),
        ("C.", CONFIRM),
        ("'c'", CONFIRM),
        ("Yes", CONFIRM),
        ("YES!", CONFIRM),
        ("yes.", CONFIRM),
        ("Y", CONFIRM),
        ("confirm", CONFIRM),
        ("Confirmed", CONFIRM),
        ("yes \U0001f44d", CONFIRM),
        ("\nYes\n", CONFIRM),
        # Cancel: X and CANCEL cancel the appointment; CANCEL is not an opt-out word here.
        ("X", CANCEL),
        ("x", CANCEL),
        ("cancel", CANCEL),
        ("CANCEL.", CANCEL),
        ("  Cancel  ", CANCEL),
        # Stop: the opt-out words.
        ("STOP", STOP),
        ("stop", STOP),
        ("Stop!", STOP),
        ("STOPALL", STOP),
        ("stop all", STOP),
        ("Stop  all", STOP),
        ("unsubscribe", STOP),
        ("END", STOP),
        ("quit", STOP),
        ("opt out", STOP),
        ("optout", STOP),
        # Start again.
        ("START", START),
        ("unstop", START),
        # Anything else is a message for staff: a keyword inside a sentence is not a keyword.
        ("yes but can I come at 3 instead?", OTHER),
        ("Please cancel my appointment", OTHER),
        ("Don't stop", OTHER),
        ("stop the texts please", OTHER),
        ("I've lost control of my bladder", OTHER),
        ("No", OTHER),
        ("N", OTHER),
        ("CC", OTHER),
        ("XX", OTHER),
        ("yes yes", OTHER),
        ("cancelled", OTHER),
        ("opt-out", OTHER),
        ("", OTHER),
        ("   ", OTHER),
        ("?!", OTHER),
    ],
)
def test_reply_intent(body, intent):
    assert reply_intent(body) == intent


def test_none_is_a_message_for_staff_not_an_error():
    assert reply_intent(None) == OTHER
