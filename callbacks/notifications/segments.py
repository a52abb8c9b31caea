"""How many SMS segments a text costs: GSM-7 when every character is in the GSM 03.38 alphabet, UCS-2 otherwise.

Providers bill per segment. A single segment holds 160 GSM-7 characters (the extension characters count twice)
or 70 UCS-2 code units; a longer text is split into segments of 153 or 67, each carrying a header that joins
them again. One character outside GSM-7 (a curly quote, an em dash, an emoji) turns the whole text into UCS-2.
"""

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def text_is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def text_segments(text: str) -> Segments:
    """The encoding, length and segment count of ``text`` as an SMS."""
    if text_is_gsm7(text):
        units = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    count = 1 if units <= single else -(-units // part)
    return Segments(encoding=encoding, units=units, count=count)
