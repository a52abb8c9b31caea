"""Spelling slips: when a word the patient typed may stand for a word of the lexicon.

Two libraries do the work. rapidfuzz counts the edits (Damerau-Levenshtein: insert, delete, substitute, swap two
neighbours) in C. symspellpy ships an English word list with each word's frequency in a large body of text: a
word found there often enough is a real word and is never read as a slip of another one ("fewer" is not "fever",
"lets" is not "legs"), so short words can tolerate a slip without turning common words into red flags.
"""

from __future__ import annotations

import functools
import importlib.resources

from rapidfuzz.distance import DamerauLevenshtein

WORD_LIST = "frequency_dictionary_en_82_765.txt"


@functools.cache
def english_word_frequencies() -> dict[str, int]:
    """symspellpy's English word list: word -> how often it occurs (about 83,000 words, read once)."""
    text = (importlib.resources.files("symspellpy") / WORD_LIST).read_text(encoding="utf-8")
    frequencies: dict[str, int] = {}
    for line in text.splitlines():
        word, _, count = line.partition(" ")
        if count.strip().isdigit():
            frequencies[word] = int(count)
    return frequencies


def is_known_word(token: str, *, floor: int) -> bool:
    return english_word_frequencies().get(token, 0) >= floor


def slips_allowed(word: str) -> int:
    """Slips tolerated in a word of the lexicon: none up to three letters, one from four, two from nine."""
    return 2 if len(word) >= 9 else 1 if len(word) >= 4 else 0


def edits(a: str, b: str, *, cutoff: int) -> int:
    """Damerau-Levenshtein distance between ``a`` and ``b``; anything above ``cutoff`` is ``cutoff + 1``."""
    return DamerauLevenshtein.distance(a, b, score_cutoff=cutoff)


def damerau_levenshtein(a: str, b: str) -> int:
    return DamerauLevenshtein.distance(a, b)


def slip_of(token: str, word: str) -> bool:
    """Whether ``token`` may be ``word`` typed with slips (same first letter; the caller rules out real words)."""
    allowed = slips_allowed(word)
    if not allowed or not token or token[0] != word[0] or abs(len(token) - len(word)) > allowed:
        return False
    return edits(token, word, cutoff=allowed) <= allowed


def slip_of_stem(token: str, stem: str) -> bool:
    """Whether ``token`` may start with ``stem`` typed with one slip ("tinlging" for tingl*)."""
    if len(stem) < 4 or not token or token[0] != stem[0]:
        return False
    return any(
        edits(token[:size], stem, cutoff=1) <= 1 for size in (len(stem) - 1, len(stem), len(stem) + 1) if size > 0
    )
