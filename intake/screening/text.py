"""Reading a patient's own words against the lexicon: which groups of red-flag phrases they use.

The text is cut into sentences (at . ! ? ; and new lines) and each sentence into clauses (at commas and at
words such as "but"; at "and" only when a new statement follows, "and my legs", so that "numb in my arms and
feet" stays one clause). In a clause a phrase matches when each of its slots is found close together. The
match is then judged in its context, which is the ConText idea (negation, history, other people, hypothetical):
it is dropped when it is negated ("I don't have a fever", "fever: no"), a worry or a question ("scared it could
be cancer"), about someone else anywhere earlier in the sentence ("my dad, who is 80, had cancer"; but a
symptom told of someone now, "my husband can't feel his legs", may be a carer typing for the patient and
counts), about something the group excludes ("steroid injection", unless the exception is itself negated:
"without trying to"), or, for a symptom that must be new, past or gone ("years ago", "cleared up") with no word
saying it is here now. Words of four letters or more that start with the same letter tolerate one slip (two
from nine letters), unless what was typed is itself a common English word (`intake.screening.spelling`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from dataclasses import dataclass

from intake.screening.lexicon import Group, Lexicon
from intake.screening.spelling import is_known_word, slip_of, slip_of_stem

TOKEN_RE = re.compile("[^\\W_]+(?:['\u2019][^\\W_]+)*")
# Text between two words that ends a sentence, or only a clause.
SENTENCE_BREAK_RE = re.compile(r"[.!?;\n\r]")
BREAK_RE = re.compile(r"[.!?;,\n\r()\[\]{}/]")
SENTENCE_BREAK = "\n"
# Words that end a clause: what comes after them is a new statement ("no fever but my legs are numb").
CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "except", "yet", "whereas", "apart"})
# After a phrase, only a bare "no" reads as a negation ("fever: no", "numb bum - none").
AFTER_CUES = frozenset({"no", "none", "nope"})
FIRST_PERSON = frozenset({"i", "me", "my", "im", "ive", "id", "myself", "mine", "ill"})
# Extra words a phrase may take beyond its own ("numbness in both of my legs").
SPAN_ALLOWANCE = 8
# Before "if" or "whether", these make a symptom the patient is unsure of, not a hypothetical one: "not sure if my
# legs are numb" counts (the safe reading), "what if my legs go numb" does not.
UNSURE = frozenset({"sure", "certain", "know", "tell", "unsure"})
QUOTE_MAX = 120
# Before a negation cue, what makes it an exclamation ("oh no, I wet myself").
NOT_CUE_BEFORE = frozenset({"oh", "uh", "ah"})
# After someone else is named, words that show they are not the subject of a statement ("lifting my toddler both
# legs gave way", "took the dog out").
NOT_SUBJECT_FOLLOWERS = frozenset(
    {
        "both",
        "out",
        "up",
        "down",
        "to",
        "into",
        "in",
        "on",
        "off",
        "for",
        "with",
        "at",
        "from",
        "over",
        "my",
        "the",
        "a",
        "an",
        "then",
        "when",
        "while",
        "i",
        "im",
        "ive",
        "around",
        "round",
        "back",
        "home",
        "help",
        "please",
    }
)
# A later clause that starts with these speaks of what came before ("... but it cleared up").
REFERS_BACK = frozenset(
    {
        "it",
        "its",
        "that",
        "thats",
        "which",
        "this",
        "they",
        "theyve",
        "theyre",
        "those",
        "these",
        "no",
        "nothing",
        "never",
        "fine",
        "gone",
        "healed",
        "went",
        "wore",
        "cleared",
        "all",
    }
)
# "in 2009", "back in 2019": a year before this one said with the symptom makes it past.
YEAR_BEFORE = frozenset({"in", "during", "from", "since"})
QUESTION_END_RE = re.compile(r"[\s\"')\]]*\?")
NUMBER_UNIT_RE = re.compile(r"^(\d+)([a-z]+)$")
POSSESSIVES = frozenset({"my", "his", "her", "their", "your", "our", "the"})
# Before a word naming someone else, what makes them the subject of the sentence ("my dad had", "a guy on a
# forum said"), not part of a simile ("sitting on someone else's skin").
SUBJECT_BEFORE = frozenset(
    {
        "",
        "my",
        "our",
        "his",
        "her",
        "their",
        "your",
        "a",
        "the",
        "and",
        "so",
        "when",
        "that",
        "old",
        "little",
        "poor",
        "elderly",
        "late",
        "young",
        "older",
        "younger",
        "best",
    }
)


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


class Matcher:
    """A lexicon compiled for matching. Build with `matcher_for`; `groups_in` is the one entry point."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.read_as = {tuple(key.split()): value for key, value in lexicon.read_as.items()}
        self.read_as_longest = max((len(key) for key in self.read_as), default=0)
        self.cues = frozenset(lexicon.negation_cues)
        self.not_cue_after = frozenset(lexicon.not_negation_after)
        self.others = frozenset(lexicon.others)
        self.told_now = frozenset(lexicon.told_now)
        self.carers = frozenset(lexicon.carers)
        self.past_tense = frozenset(lexicon.past_tense)
        self.others_anywhere = [self._normalise_words(marker) for marker in lexicon.others_anywhere]
        self.question_starts = frozenset(lexicon.question_starts)
        self.worry_cues = frozenset(lexicon.worry_cues)
        self.possibility_words = frozenset(lexicon.possibility_words)
        self.stop_words = frozenset(lexicon.stop_words)
        self.carer_back = [self._normalise_words(marker) for marker in lexicon.carer_back]
        self.typing_for = [self._normalise_words(marker) for marker in lexicon.typing_for]
        self.writer_back = [self._normalise_words(marker) for marker in lexicon.writer_back]
        self.returned = [self._normalise_words(marker) for marker in lexicon.returned_markers]
        self.not_typos = frozenset(lexicon.not_typos)
        self.past = [self._normalise_words(marker) for marker in lexicon.past_markers]
        self.resolved = [self._normalise_words(marker) for marker in lexicon.resolved_markers]
        self.present = [self._normalise_words(marker) for marker in lexicon.present_markers]
        self.hypothetical = [self._normalise_words(marker) for marker in lexicon.hypothetical_cues]
        self.statement_starts = frozenset(lexicon.statement_starts)
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
        """Lowercase words without apostrophes ("can't" -> "cant"), with `read_as` applied; a clause break reads
        as "" and a sentence break as a new line."""
        raw: list[Token] = []
        previous_end = 0
        # Lowercased word by word: lowering the whole text can change its length ("İ") and so every position.
        for found in TOKEN_RE.finditer(text):
            if raw and text[previous_end : found.start()] == "." and _digits_around(text, previous_end, found):
                pass  # a decimal point: "38.4"
            elif raw and SENTENCE_BREAK_RE.search(text, previous_end, found.start()):
                raw.append(Token(SENTENCE_BREAK, previous_end, found.start()))
            elif raw and BREAK_RE.search(text, previous_end, found.start()):
                raw.append(Token("", previous_end, found.start()))
            word = found.group().lower().replace("'", "").replace("\u2019", "")
            unit = NUMBER_UNIT_RE.match(word)
            if unit:  # "6kg" reads "6 kg", "38c" reads "38 c"
                middle = found.start() + len(unit.group(1))
                raw += [Token(unit.group(1), found.start(), middle), Token(unit.group(2), middle, found.end())]
            else:
                raw.append(Token(word, found.start(), found.end()))
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
            return not self._real_word(token) and slip_of_stem(token, stem)
        if token == word:
            return True
        return not self._real_word(token) and slip_of(token, word)

    def _real_word(self, token: str) -> bool:
        """A word the patient meant as typed: never read as a slip of a lexicon word."""
        return token in self.not_typos or is_known_word(token, floor=self.lexicon.known_word_floor)

    # Phrases in a clause ----------------------------------------------------------------------------------

    def _lexicon_words(self, token: str) -> frozenset[str]:
        """The lexicon's phrase words (and stems) that this token matches, slips included. Any possessive stands
        for the lexicon's "my" ("between her legs" for "between my legs")."""
        if not token:
            return frozenset()
        words = frozenset(word for word in self.words_by_letter.get(token[0], ()) if self.word_matches(token, word))
        return words | {"my"} if token in POSSESSIVES else words

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
        return self._find(words, marker) is not None

    def _find(self, words: list[str], marker: Alternative, start: int = 0, stop: int | None = None) -> int | None:
        """Where ``marker`` starts in ``words[start:stop]`` (the whole marker inside), or None."""
        size = len(marker)
        stop = len(words) if stop is None else stop
        for index in range(max(0, start), stop - size + 1):
            if tuple(words[index : index + size]) == marker:
                return index
        return None

    def _is_cue(self, words: list[str], index: int) -> bool:
        following = words[index + 1] if index + 1 < len(words) else ""
        before = words[index - 1] if index > 0 else ""
        return words[index] in self.cues and following not in self.not_cue_after and before not in NOT_CUE_BEFORE

    def _negated(self, words: list[str], used: frozenset[int]) -> bool:
        """A cue up to the window before the phrase (not across "because", "and" ...) or inside its span; after
        it, only a bare "no" that ends the clause ("fever: no", not "legs numb no pain")."""
        first, last = min(used), max(used)
        for index in range(first - 1, max(-1, first - 1 - self.lexicon.negation_window), -1):
            if words[index] in self.stop_words:
                break
            if self._is_cue(words, index):
                return True
        if any(index not in used and self._is_cue(words, index) for index in range(first, last + 1)):
            return True
        return last + 2 == len(words) and words[last + 1] in AFTER_CUES

    def _hypothetical(
        self, words: list[str], used: frozenset[int], sentence: list[str], first: int, clause_question: bool = False
    ) -> bool:
        """A question, a condition or a worry about something that may come ("what if I lose control of my
        bladder", "scared it could be cancer"), or a general question ("does chest pain with back pain mean
        something bad?"); not a worry about what is here ("scared because I can't feel my bum")."""
        start = min(used)
        window = []
        for index in range(start - 1, max(-1, start - 1 - self.lexicon.hypothetical_window), -1):
            if words[index] in self.stop_words:
                break
            window.insert(0, index)
        if window and self._conditional(words, window, clause_question):
            return True
        if window:
            lo = window[0]
            for cue in self.hypothetical:
                found = self._find(words, cue, lo, start)
                # "not sure if my legs are numb" is a symptom the patient is unsure of, not a hypothetical one.
                if found is not None and not (found > 0 and words[found - 1] in UNSURE):
                    return True
            for index in window:
                if words[index] in self.worry_cues and self._worry_about_a_possibility(words[index + 1 : start]):
                    return True
        # A general question: the sentence (or this clause: "quick question, is losing weight a bad sign?") opens
        # with "is", "does" ..., and no "I" or "my" comes before the phrase.
        if sentence and sentence[0] in self.question_starts and not FIRST_PERSON & set(sentence[:first]):
            return True
        return bool(words) and words[0] in self.question_starts and not FIRST_PERSON & set(words[: min(used)])

    def _conditional(self, words: list[str], window: list[int], question: bool) -> bool:
        """ "if" before the phrase: a condition ("come back if my foot starts dragging", "what happens if ...",
        "if my leg got weaker, would that mean ...?"), not a habit told as one ("If I sit down my bum goes numb")."""
        for index in window:
            if words[index] != "if" or (index > 0 and words[index - 1] in UNSURE):
                continue
            if index > 0 or question or (self.possibility_words - {"if"}) & set(words):
                return True
        return False

    def _worry_about_a_possibility(self, between: list[str]) -> bool:
        """After a worry word: "it could be", "my legs will", "about cancer", "of losing" are possibilities;
        "because I", "my legs have gone" are the patient's present."""
        if self.possibility_words & set(between):
            return True
        return not between or (between[0] in ("of", "about") and not FIRST_PERSON & set(between))

    def _other(self, word: str) -> str | None:
        """The person a word names ("mum's" reads "mums"), or None."""
        if word in self.others:
            return word
        return word[:-1] if word.endswith("s") and word[:-1] in self.others else None

    def _about_someone_else(self, group: Group, clause: Clause, first: int) -> bool:
        """Someone else named earlier in the sentence, with no "I" or "my" between them and the phrase.

        Told of family now, in the third person ("my husband says his legs feel dead"), a symptom may be a carer
        typing for the patient: that counts, except for rules about history ("my dad had cancer")."""
        sentence = clause.sentence
        if any(self._contains(sentence, marker) for marker in self.others_anywhere):
            return True
        for index in range(first - 1, -1, -1):
            if sentence[index] in FIRST_PERSON:
                return False
            person = self._other(sentence[index])
            if person is None or (index > 0 and sentence[index - 1] not in SUBJECT_BEFORE):
                continue
            # The subject of a statement ("my dog's lost weight", "my dad, who is 80, had"), not a word on the
            # way ("lifting my toddler both legs gave way", "took the dog out").
            following = sentence[index + 1] if index + 1 < len(sentence) else ""
            if sentence[index] == person and following in NOT_SUBJECT_FOLLOWERS:
                continue
            if person not in self.carers:
                return True
            if clause.text is not None and clause.text.for_someone:
                return False  # "typing this for my dad": he is the patient
            if clause.text is not None and clause.text.writer_has_back_pain:
                return True  # the writer has the back pain: their relative's symptom is the relative's
            after = [*sentence[index + 1 :], "", *clause.next_sentence]
            # The writer speaking of themselves too ("... so I have to be careful") is not typing for them.
            if FIRST_PERSON & set(sentence[index + 1 :]):
                return True
            if group.history_counts:
                # A relative's history is theirs, unless their back is the subject ("Dad has prostate cancer and now
                # he has new pain in his back"): then a carer is typing for the patient.
                return not any(self._contains(after, marker) for marker in self.carer_back)
            # A symptom told in the past ("my son was in a car crash") is theirs, unless the sentence brings it to
            # now ("... and is still on anti-rejection drugs"); told now, a carer may be typing.
            if self.past_tense & set(sentence[index + 1 : first]) and not any(
                self._contains(after, marker) for marker in self.present
            ):
                return True
            return not (self.told_now & set(after) or any(self._contains(after, m) for m in self.carer_back))
        return False

    def _past(self, clause: Clause, later: list[list[str]]) -> bool:
        """Past (said in the clause: "I had tingling in both legs years ago") or gone (said there, or in a later
        clause that speaks of it: "... but it cleared up", "... and it's been normal since"), and nothing saying it
        is here again."""
        referring = [words for words in later if words and words[0] in REFERS_BACK]
        following = later[0] if later and not self._resolves(later[0]) else []
        nearby = [*clause.words, "", *following]
        around = [*clause.sentence, "", *following]
        if any(self._resolves(words) for words in (clause.words, *referring)):
            return not any(self._contains(around, marker) for marker in self.returned)
        if not (any(self._contains(clause.words, marker) for marker in self.past) or _an_earlier_year(clause.words)):
            return False
        return not any(self._contains(nearby, marker) for marker in (*self.present, *self.returned))

    def _resolves(self, words: list[str]) -> bool:
        return any(self._contains(words, marker) for marker in self.resolved)

    def _excluded(self, group: Group, clause: Clause) -> bool:
        """An exception of the group in the clause (or the sentence, for a group that says so), unless it is itself
        negated ("lost weight without trying")."""
        words = clause.sentence if group.unless_in_sentence else clause.words
        for unless in self.unless[group.question]:
            found = self._find(words, unless)
            while found is not None:
                if not any(self._is_cue(words, index) for index in range(max(0, found - 2), found)):
                    return True
                found = self._find(words, unless, found + 1)
        return False

    def _counts(self, group: Group, clause: Clause, used: frozenset[int], later: list[list[str]]) -> bool:
        words = clause.words
        first = clause.offset + min(used)
        if self._negated(words, used) or self._hypothetical(words, used, clause.sentence, first, clause.question):
            return False
        if self._about_someone_else(group, clause, first):
            return False
        if self._excluded(group, clause):
            return False
        return group.history_counts or not self._past(clause, later)

    # The entry point -------------------------------------------------------------------------------------

    def clauses(self, text: str) -> list[Clause]:
        """The text's clauses, each with its sentence."""
        sentences: list[list[Token]] = [[]]
        for token in self.tokens(text):
            if token.word == SENTENCE_BREAK:
                sentences.append([])
            else:
                sentences[-1].append(token)
        clauses: list[list[tuple]] = []
        for sentence in sentences:
            words = [token.word for token in sentence if token.word]
            pieces: list[list[Token]] = [[]]
            offsets = [0]
            position = 0
            for number, token in enumerate(sentence):
                following = sentence[number + 1].word if number + 1 < len(sentence) else ""
                new_statement = token.word == "and" and following in self.statement_starts
                if token.word == "" or token.word in CLAUSE_WORDS or new_statement:
                    pieces.append([])
                    offsets.append(position + (token.word != ""))
                else:
                    pieces[-1].append(token)
                position += token.word != ""
            question = bool(sentence) and QUESTION_END_RE.match(text, sentence[-1].end) is not None
            clauses.append(
                [
                    (piece, [token.word for token in piece], words, offset, question)
                    for piece, offset in zip(pieces, offsets, strict=True)
                ]
            )
        text_words = [token.word for sentence in sentences for token in sentence if token.word]
        context = TextContext(
            for_someone=any(self._contains(text_words, marker) for marker in self.typing_for),
            writer_has_back_pain=any(self._contains(text_words, marker) for marker in self.writer_back),
        )
        result: list[Clause] = []
        for number, group in enumerate(clauses):
            following = tuple(clauses[number + 1][0][2]) if number + 1 < len(clauses) else ()
            result += [Clause(*item[:4], next_sentence=following, text=context, question=item[4]) for item in group]
        return result

    def groups_in(self, text: str) -> list[TextMatch]:
        """One match per group found in ``text`` (quoting the first clause that has it), in lexicon order.

        Never raises, whatever the string."""
        clauses = self.clauses(text)
        prepared = []
        for clause in clauses:
            matched = [self.lexicon_words(word) for word in clause.words]
            index: dict[str, list[int]] = {}
            for position, lexicon_words in enumerate(matched):
                for word in lexicon_words:
                    index.setdefault(word, []).append(position)
            prepared.append((matched, index))
        found: dict[str, TextMatch] = {}
        for number, (clause, (matched, index)) in enumerate(zip(clauses, prepared, strict=True)):
            # Only the phrases whose first slot starts here can match in this clause.
            candidates = sorted({item for word in index for item in self.phrases_by_first_word.get(word, ())})
            # The later clauses of this sentence, then the first of the next ("It went away after a week.").
            later = [c.words for c in clauses[number + 1 :] if c.sentence is clause.sentence]
            after = next((c for c in clauses[number + 1 :] if c.sentence is not clause.sentence), None)
            later += [after.words] if after is not None else []
            for item in candidates:
                group, display, phrase = self.phrases[item]
                if group.question in found:
                    continue
                if any(slot_firsts.isdisjoint(index) for slot_firsts in self.phrase_firsts[item]):
                    continue
                spans = self._phrase_spans(matched, index, phrase)
                if any(self._counts(group, clause, used, later) for used in spans):
                    found[group.question] = TextMatch(group.question, _quote(text, clause.tokens), display)
        order = [group.question for group in self.lexicon.groups]
        return sorted(found.values(), key=lambda match: order.index(match.question_id))


@dataclass(frozen=True)
class Clause:
    tokens: list[Token]
    words: list[str]
    sentence: list[str]  # every word of the clause's sentence
    offset: int  # where the clause's first word is in the sentence
    next_sentence: tuple[str, ...] = ()
    text: TextContext | None = None
    question: bool = False  # the sentence ends with "?"


@dataclass(frozen=True)
class TextContext:
    """What the whole text says about who is writing."""

    for_someone: bool  # "typing this for my husband", "carer here": the third person is the patient
    writer_has_back_pain: bool  # "my back", "my lower back": the writer is the patient, others are others


def _an_earlier_year(words: list[str]) -> bool:
    """ "in 2009", "back in 2019": a year before this one, after "in", "during", "from" or "since"."""
    this_year = dt.date.today().year
    return any(
        word.isdigit()
        and len(word) == 4
        and 1900 <= int(word) < this_year
        and index > 0
        and words[index - 1] in YEAR_BEFORE
        for index, word in enumerate(words)
    )


def _digits_around(text: str, dot: int, following: re.Match) -> bool:
    return dot > 0 and text[dot - 1].isdigit() and following.group()[0].isdigit()


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
