"""The labelled corpus of patient-written sentences (tests/data/) and how a screen's answer is judged against it.

Each sentence is labelled with the red flag it states (a safety question id, or "none") and its context:
affirmed (the writer has it now), negated, past (and gone), other (someone else's), hypothetical (a worry, a
question), carer (someone typing for the patient, in the third person). What the screen should raise follows
from the label, not from the engine: the flag when it is affirmed or told by a carer, or when it is past and the
rule is about history (cancer, steroids, injected drugs: "years ago" still counts); nothing otherwise. A sentence
may name other flags that are an equally right catch (``also``).

Shared by tests/intake/test_redflag_corpus.py (the targets) and bench/redflags.py (the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "redflag_corpus.yaml"
HOLDOUT = DATA / "redflag_holdout.yaml"
# Written apart from the lexicon, each measured once before any change was made for it (docs/BENCHMARKS.md).
HOLDOUT2 = DATA / "redflag_holdout2.yaml"
HOLDOUT3 = DATA / "redflag_holdout3.yaml"
CONTEXTS = ("affirmed", "negated", "past", "other", "hypothetical", "carer")
RAISED_WHEN = ("affirmed", "carer")


@dataclass(frozen=True)
class Sentence:
    text: str
    flag: str
    context: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScreenedSentence:
    sentence: Sentence
    expected: str | None  # the flag that should be raised, or None
    found: tuple[str, ...]  # what the screen pointed at

    @property
    def caught(self) -> bool:
        """The expected flag (or an equally right one) was found."""
        return self.expected is not None and bool({self.expected, *self.sentence.also} & set(self.found))

    @property
    def right(self) -> bool:
        return self.caught if self.expected else not self.found


@dataclass(frozen=True)
class ScreenedGroups:
    """Screened sentences as the figures count them."""

    by_flag: dict[str, list[ScreenedSentence]]  # stating the flag now: sensitivity
    by_context: dict[str, list[ScreenedSentence]]  # naming a flag that is not the patient's now: specificity
    harmless: list[ScreenedSentence]  # flag none: specificity


def corpus_groups(screened: list[ScreenedSentence]) -> ScreenedGroups:
    groups = ScreenedGroups({}, {}, [])
    for item in screened:
        if item.sentence.flag == "none":
            groups.harmless.append(item)
        elif item.expected:
            groups.by_flag.setdefault(item.sentence.flag, []).append(item)
        else:
            groups.by_context.setdefault(item.sentence.context, []).append(item)
    return groups


def corpus_load(path: Path = CORPUS) -> list[Sentence]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Sentence(item["text"], item["flag"], item["context"], tuple(item.get("also") or ()))
        for item in raw["sentences"]
    ]


def history_flags() -> frozenset[str]:
    from intake.definitions import BACK_PAIN, definition_current
    from intake.screening import lexicon_for_definition

    lexicon = lexicon_for_definition(definition_current(BACK_PAIN))
    return frozenset(group.question for group in lexicon.groups if group.history_counts)


def flag_tiers() -> dict[str, str]:
    from intake.definitions import BACK_PAIN, definition_current
    from intake.screening import lexicon_for_definition, rule_for_question

    definition = definition_current(BACK_PAIN)
    lexicon = lexicon_for_definition(definition)
    return {group.question: rule_for_question(definition, group.question).tier.value for group in lexicon.groups}


def expected_flag(sentence: Sentence, history: frozenset[str]) -> str | None:
    if sentence.flag == "none":
        return None
    if sentence.context in RAISED_WHEN or (sentence.context == "past" and sentence.flag in history):
        return sentence.flag
    return None


def corpus_screen(sentences: list[Sentence]) -> list[ScreenedSentence]:
    """Every sentence screened on its own, as the free text of a patient who has answered nothing else."""
    from intake.definitions import BACK_PAIN, definition_current
    from intake.screening import screening_text

    definition = definition_current(BACK_PAIN)
    history = history_flags()
    return [
        ScreenedSentence(
            sentence, expected_flag(sentence, history), tuple(screening_text(definition=definition, text=sentence.text))
        )
        for sentence in sentences
    ]
