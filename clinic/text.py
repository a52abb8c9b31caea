"""Characters nobody types into a form and no screen shows honestly, refused wherever people write text.

Control characters other than tab and line breaks (a vertical tab, U+001F, the C1 block) have no place in a name
or an answer. The bidirectional overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) make text
read differently from what is stored: a name or answer could show staff something else than what it says.
Noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and the last two code points of every plane) and lone surrogates are
not text at all. All these are refused with a message next to the field.

Other invisible characters are removed instead, since they come in unseen with pasted text (a soft hyphen from a
web page, a byte-order mark from a file) and hide words from search: format characters (Unicode category Cf: a
zero-width space, a word joiner, U+FEFF, a soft hyphen, the tag characters U+E0000-U+E007F that can carry hidden
ASCII) and the filler letters that draw nothing (Hangul fillers U+3164, U+115F, U+1160, U+FFA0, the braille blank
U+2800, ...). A name of nothing else is then empty, and the form says so.

Everything else is kept as typed: every script, emoji (with their joiners), the invisible marks some languages
need (zero-width joiner and non-joiner, left-to-right, right-to-left and Arabic letter marks), and the tags of a
subdivision flag (England, Scotland, Wales) where they follow the black flag they belong to.
"""

import re
import unicodedata

HIDDEN_CHARACTERS_MESSAGE = (
    "This contains a hidden control character (such as a text-direction override), often from copying and "
    "pasting. Please type it again."
)
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Format characters that scripts need: the joiners (Persian, Indic scripts, emoji) and the direction marks.
_NEEDED_FORMAT_CHARACTERS = frozenset("\u200c\u200d\u200e\u200f\u061c")
# Letters and symbols that draw nothing (most are category Lo, so they pass for a name's letters).
_FILLERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\u034f")
# An emoji subdivision flag: the black flag, two to six tag letters or digits, the cancel tag (UTS #51).
_FLAG_TAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f")


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


def _invisible(char: str) -> bool:
    if char in _FILLERS:
        return True
    return unicodedata.category(char) == "Cf" and char not in _NEEDED_FORMAT_CHARACTERS and char not in _BIDI_CONTROLS


def text_without_invisible_characters(text: str) -> str:
    """``text`` without the invisible format characters and fillers (see the module's text); the direction
    controls are left for `text_has_hidden_characters` to refuse."""
    kept: list[str] = []
    position = 0
    for flag in _FLAG_TAG_SEQUENCE.finditer(text):
        kept.append("".join(char for char in text[position : flag.start()] if not _invisible(char)))
        kept.append(flag.group())
        position = flag.end()
    kept.append("".join(char for char in text[position:] if not _invisible(char)))
    return "".join(kept)
