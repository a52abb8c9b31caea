"""Characters nobody types into a form and no screen shows honestly, refused wherever people write text.

Control characters other than tab and line breaks (a vertical tab, U+001F, the C1 block) have no place in a name
or an answer. The bidirectional overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) make text
read differently from what is stored: a name or answer could show staff something else than what it says.
Noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and the last two code points of every plane) and lone surrogates are
not text at all. Everything else is kept as typed: every script, emoji (with their joiners), and the invisible
marks that some languages need (zero-width joiners, left-to-right and right-to-left marks).
"""

import unicodedata

HIDDEN_CHARACTERS_MESSAGE = (
    "This contains a hidden control character (such as a text-direction override), often from copying and "
    "pasting. Please type it again."
)
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden(char: str) -> bool:
    code = ord(char)
    if char in _BIDI_CONTROLS or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return True
    category = unicodedata.category(char)
    return (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs"


def text_has_hidden_characters(text: str) -> bool:
    return text_hidden_character(text) is not None


def text_hidden_character(text: str) -> str | None:
    """The first character of ``text`` that is refused here, or None."""
    return next((char for char in text if _hidden(char)), None)
