"""Reading a patient's own words against the lexicon: which groups of red-flag phrases they use.

The text is cut into clauses (at punctuation and at words such as "but" and "and"), so that "no fever, but
my legs are numb" keeps the "no" with the fever. In a clause a phrase matches when each of its slots is found
close together; the match is then dropped when it is negated ("I don't have a fever", "fever: no"), about
someone else ("my mum had cancer"), about something the group excludes ("steroid injection"), or, for a
symptom that must be new, long past ("years ago") with no word saying it is back. Words of five letters or
more that start with the same letter tolerate one slip (two from nine letters): "numbnes", "tingleing".
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from intake.screening.lexicon import Group, Lexicon

TOKEN_RE = re.compile("[^\\W_]+(?:['\u2019][^\\W_]+)*")
# Text between two words that ends a clause.
BREAK_RE = re.compile(r"[.!?;,\n\r()\[\]{}/]")
# Words that end a clause: what comes after them is a new statement ("no fever but my legs are numb").
CLAUSE_WORDS = frozenset({"but", "and", "however", "although", "though", "except", "yet", "whereas", "apart"})
# After a phrase, only a bare "no" reads as a negation ("fever: no", "numb bum - none").
AFTER_CUES = frozenset({"no", "none", "nope"})
FIRST_PERSON = frozenset({"i", "me", "my", "im", "ive", "id", "myself", "mine"})
# Extra words a phrase may take beyond its own ("numbness in both of my legs").
SPAN_ALLOWANCE = 4
QUOTE_MAX = 120


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class TextMatch:
    """One group's phrase found in a text: the safety question it points at, the clause quoted, the phrase."""

    question_id: str
    quote: str
    phrase: str


Alternative = tuple[str, ...]
Slot = tuple[Alternative, ...]
Phrase = tuple[Slot, ...]


def damerau_levenshtein(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def slips_allowed(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


class Matcher:
    """A lexicon compiled for matching. Build with `matcher_for`; `groups_in` is the one entry point."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.read_as = {tuple(key.split()): value for key, value in lexicon.read_as.items()}
        self.read_as_longest = max((len(key) for key in self.read_as), default=0)
        self.cues = frozenset(lexicon.negation_cues)
        self.not_cue_after = frozenset(lexicon.not_negation_after)
        self.others = frozenset(lexicon.others)
        self.not_typos = frozenset(lexicon.not_typos)
        self.past = [self._normalise_words(marker) for marker in lexicon.past_markers]
        self.present = [self._normalise_words(marker) for marker in lexicon.present_markers]
        self.phrases: list[tuple[Group, str, Phrase]] = []
        # The first words of each slot's alternatives: a clause without one of each cannot hold the phrase.
        self.phrase_firsts: list[tuple[frozenset[str], ...]] = []
        for group in lexicon.groups:
            for raw in group.phrases:
                slots = [[raw]] if isinstance(raw, str) else raw
                phrase = tuple(tuple(self._normalise_words(alt) for alt in slot) for slot in slots)
                self.phrases.append((group, _display(raw), phrase))
                self.phrase_firsts.append(tuple(frozenset(alt[0] for alt in slot) for slot in phrase))
        self.phrases_by_first_word: dict[str, list[int]] = {}
        for item, firsts in enumerate(self.phrase_firsts):
            for word in firsts[0]:
                self.phrases_by_first_word.setdefault(word, []).append(item)
        self.unless = {
            group.question: [self._normalise_words(word) for word in group.unless] for group in lexicon.groups
        }
        self.word_matches = self._word_matches
        self.words_by_letter: dict[str, tuple[str, ...]] = {}
        for _, _, phrase in self.phrases:
            for alternative in (alternative for slot in phrase for alternative in slot):
                for word in alternative:
                    letters = self.words_by_letter.setdefault(word[0], ())
                    if word not in letters:
                        self.words_by_letter[word[0]] = (*letters, word)
        self.lexicon_words = functools.lru_cache(maxsize=50000)(self._lexicon_words)

    # Words ----------------------------------------------------------------------------------------------

    def _normalise_words(self, text: str) -> Alternative:
        if text.endswith("*"):
            return (text,)  # a single word stem (the lexicon's model allows no other use of *)
        return tuple(token.word for token in self.tokens(text))

    def tokens(self, text: str) -> list[Token]:
        """Lowercase words without apostrophes ("can't" -> "cant"), with `read_as` applied, and breaks as ""."""
        raw: list[Token] = []
        previous_end = 0
        for found in TOKEN_RE.finditer(text.lower()):
            if raw and BREAK_RE.search(text, previous_end, found.start()):
                raw.append(Token("", previous_end, found.start()))
            raw.append(Token(found.group().replace("'", "").replace("\u2019", ""), found.start(), found.end()))
            previous_end = found.end()
        merged: list[Token] = []
        index = 0
        while index < len(raw):
            for size in range(min(self.read_as_longest, len(raw) - index), 0, -1):
                key = tuple(token.word for token in raw[index : index + size])
                if key in self.read_as:
                    merged.append(Token(self.read_as[key], raw[index].start, raw[index + size - 1].end))
                    index += size
                    break
            else:
                merged.append(raw[index])
                index += 1
        return merged

    def _word_matches(self, token: str, word: str) -> bool:
        if word.endswith("*"):
            stem = word[:-1]
            if token.startswith(stem) and token not in self.not_typos:
                return True
            if token in self.not_typos or not token or token[0] != stem[0] or len(stem) < 5:
                return False
            return any(
                damerau_levenshtein(token[:size], stem) <= 1 for size in (len(stem) - 1, len(stem), len(stem) + 1)
            )
        if token == word:
            return True
        allowed = slips_allowed(word)
        if not allowed or token in self.not_typos or " " in word or not token or token[0] != word[0]:
            return False
        return abs(len(token) - len(word)) <= allowed and damerau_levenshtein(token, word) <= allowed

    # Phrases in a clause ----------------------------------------------------------------------------------

    def _lexicon_words(self, token: str) -> frozenset[str]:
        """The lexicon's phrase words (and stems) that this token matches, slips included."""
        if not token:
            return frozenset()
        return frozenset(word for word in self.words_by_letter.get(token[0], ()) if self.word_matches(token, word))

    def _alternative_at(self, matched: list[frozenset[str]], start: int, alternative: Alternative) -> list[int] | None:
        """Positions of the alternative's words from ``start`` (at most one other word between two), or None."""
        positions = [start]
        for word in alternative[1:]:
            following = [
                index
                for index in (positions[-1] + 1, positions[-1] + 2)
                if index < len(matched) and word in matched[index]
            ]
            if not following:
                return None
            positions.append(following[0])
        return positions

    def _slot_positions(
        self, matched: list[frozenset[str]], index: dict[str, list[int]], slot: Slot
    ) -> list[list[int]]:
        found: dict[int, list[int]] = {}
        for alternative in slot:
            for start in index.get(alternative[0], ()):
                if start not in found:
                    positions = self._alternative_at(matched, start, alternative)
                    if positions is not None:
                        found[start] = positions
        return [found[start] for start in sorted(found)]

    def _phrase_spans(self, matched: list[frozenset[str]], index: dict[str, list[int]], phrase: Phrase):
        """Every way the phrase's slots sit close together in the clause, as sets of word positions."""
        per_slot = []
        for slot in phrase:
            positions = self._slot_positions(matched, index, slot)
            if not positions:
                return
            per_slot.append(positions)
        longest = sum(max(len(alternative) for alternative in slot) for slot in phrase) * 2 + SPAN_ALLOWANCE
        # Anchored on each place the first slot matches, only what lies within reach of it is combined, so a long
        # clause costs its length, not the product of every slot's matches.
        for anchor in per_slot[0]:
            near = [
                [positions for positions in slot_positions if abs(positions[0] - anchor[0]) <= longest]
                for slot_positions in per_slot[1:]
            ]
            for combination in itertools.product([anchor], *near):
                used = [position for positions in combination for position in positions]
                if len(set(used)) != len(used):
                    continue
                if max(used) - min(used) + 1 <= len(used) + SPAN_ALLOWANCE:
                    yield frozenset(used)

    def _contains(self, words: list[str], marker: Alternative) -> bool:
        size = len(marker)
        return any(tuple(words[index : index + size]) == marker for index in range(len(words) - size + 1))

    def _is_cue(self, words: list[str], index: int) -> bool:
        following = words[index + 1] if index + 1 < len(words) else ""
        return words[index] in self.cues and following not in self.not_cue_after

    def _negated(self, words: list[str], used: frozenset[int]) -> bool:
        first, last = min(used), max(used)
        window = range(max(0, first - self.lexicon.negation_window), last + 1)
        if any(index not in used and self._is_cue(words, index) for index in window):
            return True
        following = last + 1
        return following < len(words) and words[following] in AFTER_CUES and self._is_cue(words, following)

    def _about_someone_else(self, words: list[str], used: frozenset[int]) -> bool:
        first = min(used)
        for index in range(max(0, first - self.lexicon.others_window), first):
            if words[index] in self.others and not FIRST_PERSON & set(words[index + 1 : first]):
                return True
        return False

    def _long_past(self, words: list[str], following: list[str]) -> bool:
        """A long-past word in the clause and no word, there or in the next clause, saying it is here now."""
        if not any(self._contains(words, marker) for marker in self.past):
            return False
        return not any(self._contains([*words, "", *following], marker) for marker in self.present)

    def _counts(self, group: Group, words: list[str], used: frozenset[int], following: list[str]) -> bool:
        if self._negated(words, used) or self._about_someone_else(words, used):
            return False
        if any(self._contains(words, unless) for unless in self.unless[group.question]):
            return False
        return group.history_counts or not self._long_past(words, following)

    # The entry point -------------------------------------------------------------------------------------

    def groups_in(self, text: str) -> list[TextMatch]:
        """One match per group found in ``text`` (quoting the first clause that has it), in lexicon order.

        Never raises, whatever the string."""
        tokens = self.tokens(text)
        clauses: list[list[Token]] = [[]]
        for token in tokens:
            if token.word == "" or token.word in CLAUSE_WORDS:
                clauses.append([])
            else:
                clauses[-1].append(token)
        prepared = []
        for clause in clauses:
            words = [token.word for token in clause]
            matched = [self.lexicon_words(word) for word in words]
            index: dict[str, list[int]] = {}
            for position, lexicon_words in enumerate(matched):
                for word in lexicon_words:
                    index.setdefault(word, []).append(position)
            prepared.append((words, matched, index))
        found: dict[str, TextMatch] = {}
        for number, (words, matched, index) in enumerate(prepared):
            # Only the phrases whose first slot starts here can match in this clause.
            candidates = sorted({item for word in index for item in self.phrases_by_first_word.get(word, ())})
            following = prepared[number + 1][0] if number + 1 < len(prepared) else []
            for item in candidates:
                group, display, phrase = self.phrases[item]
                if group.question in found:
                    continue
                if any(slot_firsts.isdisjoint(index) for slot_firsts in self.phrase_firsts[item]):
                    continue
                spans = self._phrase_spans(matched, index, phrase)
                if any(self._counts(group, words, used, following) for used in spans):
                    found[group.question] = TextMatch(group.question, _quote(text, clauses[number]), display)
        order = [group.question for group in self.lexicon.groups]
        return sorted(found.values(), key=lambda match: order.index(match.question_id))


def _display(raw: str | list[list[str]]) -> str:
    if isinstance(raw, str):
        return raw
    return " + ".join("(" + " | ".join(slot) + ")" if len(slot) > 1 else slot[0] for slot in raw)


def _quote(text: str, clause: list[Token]) -> str:
    quote = " ".join(text[clause[0].start : clause[-1].end].split())
    return quote if len(quote) <= QUOTE_MAX else quote[: QUOTE_MAX - 1].rstrip() + "…"


_MATCHERS: dict[int, Matcher] = {}


def matcher_for(lexicon: Lexicon) -> Matcher:
    """The compiled matcher of a lexicon (lexicons are loaded once, so one matcher each)."""
    key = id(lexicon)
    if key not in _MATCHERS or _MATCHERS[key].lexicon is not lexicon:
        _MATCHERS[key] = Matcher(lexicon)
    return _MATCHERS[key]
