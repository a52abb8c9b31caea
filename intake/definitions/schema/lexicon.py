"""A definition's red-flag lexicon (``<slug>/v<N>.lexicon.yaml``) as pydantic models, and its checks.

The shape (fields, types, phrase syntax) is declared on the fields. What the lexicon says about its definition
(each group names a yes/no question that an emergency or urgent rule rests on, every such rule has a group,
contradictions name answers the questions offer) is checked by `LexiconFile`'s validator when the definition is
given as validation context: ``LexiconFile.model_validate(raw, context={"definition": definition})``.

The matching engine that reads these models is `intake.screening`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, model_validator

from intake.conditions import condition_subjects
from intake.definitions.schema.base import FileModel, Id, Problems, Text, duplicates, problem
from intake.definitions.types import CHOICE_TYPES, AnswerType, Definition, Rule, Tier

RED_FLAG_TIERS = (Tier.EMERGENCY, Tier.URGENT)
_WORD_RE = re.compile(r"^[a-z0-9]+$")
_STEM_RE = re.compile(r"^[a-z0-9]{3,}\*$")


def _words(value: str) -> str:
    """A phrase alternative: lowercase words without apostrophes; one word may end in * (any ending)."""
    words = value.split()
    if not words:
        raise problem("must be a non-empty string")
    if not all(_WORD_RE.match(word) or (len(words) == 1 and _STEM_RE.match(word)) for word in words):
        raise problem(
            f"{value!r}: write lowercase words without apostrophes (cant, not can't); "
            "a * may end a single word of three letters or more (numb*)"
        )
    return " ".join(words)


def _read_as(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    return {_words(str(key)): value for key, value in raw.items()}


def _phrase(raw: Any) -> Any:
    """A phrase: a string (one slot, one alternative) or a list of slots, each a list of alternatives."""
    if isinstance(raw, str):
        return _words(raw)
    shape = "a phrase is a string or a list of lists of strings, e.g. [[numb*, tingl*], [bum, groin]]"
    if not isinstance(raw, list) or not raw:
        raise problem(shape)
    slots = []
    for slot in raw:
        if not isinstance(slot, list) or not slot or not all(isinstance(item, str) for item in slot):
            raise problem(shape)
        slots.append([_words(item) for item in slot])
    return slots


Words = Annotated[str, AfterValidator(_words)]
_PHRASE_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
    ]
}
Phrase = Annotated[Any, BeforeValidator(_phrase), WithJsonSchema(_PHRASE_SCHEMA)]


class SourceFile(FileModel):
    id: Id
    title: Text
    url: Text | None = None


class GroupFile(FileModel):
    """The phrases that point at one safety question, and how to ask that question again."""

    question: Id = Field(description="A yes/no question that an emergency or urgent rule rests on.")
    recheck: Text = Field(description="Asked again in plain words when the patient's words point here.")
    sources: list[Id] = Field(min_length=1)
    history_counts: bool = Field(False, description="True for a rule about history: 'years ago' still counts.")
    if_denied: Tier | None = Field(
        None,
        description="The tier left when the patient, asked again, says no: by default urgent (a clinician the same "
        "day) for a question of an emergency rule, review for one of an urgent rule. Never any advice to the "
        "patient: they said no.",
    )
    needs_rule: bool = Field(
        False,
        description="A finding counts only when the group's rule would hold were the question answered yes (a minor "
        "fall counts with a fracture risk: osteoporosis, steroids or age over 70).",
    )
    phrases: list[Phrase] = Field(min_length=1)
    unless: list[Words] = Field(default_factory=list, description="Words in the clause that mean something else.")
    unless_in_sentence: bool = Field(
        False, description="The exceptions count anywhere in the sentence ('dieting since January and lost a stone')."
    )

    def phrase_slots(self) -> list[list[list[str]]]:
        """Every phrase as slots of alternatives."""
        return [[[phrase]] if isinstance(phrase, str) else phrase for phrase in self.phrases]


class MarkedFile(FileModel):
    question: Id
    any_of: list[str] = Field(min_length=1)


class ContradictionFile(FileModel):
    """Answers that, all together, contradict a "no" to the safety question."""

    id: Id
    question: Id
    said: Text = Field(description="What the patient marked, as they are reminded of it.")
    staff: Text = Field(description="The same for staff, in the possible red flag reason.")
    sources: list[Id] = Field(min_length=1)
    marked: list[MarkedFile] = Field(min_length=1, description="Each needs at least one of its answers chosen.")


class LexiconFile(FileModel):
    """The red-flag lexicon of one definition version."""

    model_config = ConfigDict(title="Red-flag lexicon")

    definition: Annotated[str, Field(pattern=r"^[a-z0-9-]+/v[1-9][0-9]*$")]
    version: int = Field(ge=1, description="Raised with every reviewed change.")
    reviewed: dt.date
    sources: list[SourceFile] = Field(min_length=1)
    read_as: Annotated[dict[str, Words], BeforeValidator(_read_as)] = Field(default_factory=dict)
    negation_window: int = Field(ge=1, le=10)
    negation_cues: list[Words] = Field(min_length=1)
    not_negation_after: list[Words] = Field(default_factory=list)
    past_markers: list[Words] = Field(default_factory=list)
    present_markers: list[Words] = Field(default_factory=list)
    others_window: int = Field(3, ge=0, le=10)
    others: list[Words] = Field(default_factory=list)
    told_now: list[Words] = Field(
        default_factory=list,
        description="Words such as 'his', 'she' or 'is': after family is named, a symptom told of them now may be "
        "a carer typing for the patient, so it counts (except for history rules).",
    )
    carers: list[Words] = Field(
        default_factory=list, description="Of the others, those a patient may have typing for them (family)."
    )
    carer_back: list[Words] = Field(
        default_factory=list,
        description="After family is named: the sentence is about their back ('his back'), so a carer is typing.",
    )
    typing_for: list[Words] = Field(
        default_factory=list,
        description="Anywhere in the text: someone types for the patient ('typing this for my dad', 'carer here').",
    )
    writer_back: list[Words] = Field(
        default_factory=list,
        description="Anywhere in the text: the writer has the back pain ('my back'), so family named are others.",
    )
    past_tense: list[Words] = Field(
        default_factory=list, description="Told in the past ('had', 'was'): then someone else's symptom is theirs."
    )
    others_anywhere: list[Words] = Field(
        default_factory=list, description="Anywhere in the sentence, it is about someone else ('in my family')."
    )
    question_starts: list[Words] = Field(
        default_factory=list,
        description="A sentence that starts so, with no 'I' or 'my' before the phrase, is a general question.",
    )
    returned_markers: list[Words] = Field(
        default_factory=list, description="It has come back: a resolved marker no longer takes the symptom away."
    )
    worry_cues: list[Words] = Field(
        default_factory=list,
        description="Worry words ('scared', 'worried'): a worry only when a possibility follows ('scared it could "
        "be cancer', 'worried about cancer'), not when a symptom does ('scared because I can't feel my bum').",
    )
    possibility_words: list[Words] = Field(
        default_factory=list, description="After a worry word, these make what follows a possibility ('will', 'might')."
    )
    stop_words: list[Words] = Field(
        default_factory=list,
        description="A negation or a worry does not reach across these ('no sleep because my legs are numb').",
    )
    hypothetical_window: int = Field(5, ge=0, le=12)
    hypothetical_cues: list[Words] = Field(
        default_factory=list, description="Worry, a question or a condition before a phrase: 'scared it could be'."
    )
    resolved_markers: list[Words] = Field(
        default_factory=list, description="Anywhere in the sentence: the symptom has gone ('cleared up')."
    )
    statement_starts: list[Words] = Field(
        default_factory=list,
        description="After 'and', these words start a new statement ('and my legs'); otherwise 'and' joins words "
        "of one statement ('numb and heavy in both legs').",
    )
    known_word_floor: int = Field(
        100000,
        ge=0,
        description="A word this frequent in the bundled English word list is a real word, never read as a slip.",
    )
    not_typos: list[Words] = Field(default_factory=list)
    vocabulary: dict[str, list[Words]] = Field(
        default_factory=dict,
        description="Named word lists (a concept: numbness, the saddle area), used in phrases through YAML anchors.",
    )
    groups: list[GroupFile] = Field(min_length=1)
    contradictions: list[ContradictionFile] = Field(default_factory=list)

    def group(self, question_id: str) -> GroupFile | None:
        return next((group for group in self.groups if group.question == question_id), None)

    def source_titles(self, ids: list[str]) -> str:
        titles = {source.id: source.title for source in self.sources}
        return "; ".join(titles[source_id] for source_id in ids)

    @model_validator(mode="after")
    def _fits_together_and_with_the_definition(self, info: ValidationInfo) -> LexiconFile:
        problems = Problems(self)
        problems.extend(duplicates(self.sources, "id", ("sources",), "duplicate source id {!r}"))
        problems.extend(duplicates(self.groups, "question", ("groups",), "more than one group for {!r}"))
        problems.extend(duplicates(self.contradictions, "id", ("contradictions",), "duplicate contradiction {!r}"))
        known = {source.id for source in self.sources}
        for where, items in (("groups", self.groups), ("contradictions", self.contradictions)):
            for index, item in enumerate(items):
                for position, source_id in enumerate(item.sources):
                    if source_id not in known:
                        problems.add((where, index, "sources", position), f"unknown source {source_id!r}")
        for index, item in enumerate(self.contradictions):
            if self.group(item.question) is None:
                problems.add(("contradictions", index, "question"), f"{item.question!r} has no group of phrases")
        definition = (info.context or {}).get("definition")
        if definition is not None:
            self._definition_problems(definition, problems)
        problems.raise_any()
        return self

    def _definition_problems(self, definition: Definition, problems: Problems) -> None:
        if self.definition != definition.key:
            problems.add(("definition",), f"is {self.definition!r} but the file belongs to {definition.key}")
        questions = definition.question_map
        for index, group in enumerate(self.groups):
            question = questions.get(group.question)
            if question is None or question.type is not AnswerType.YES_NO:
                problems.add(("groups", index, "question"), f"{group.question!r} is not a yes/no question")
            elif rule_for_question(definition, group.question) is None:
                problems.add(("groups", index, "question"), f"no emergency or urgent rule rests on {group.question!r}")
        covered = {group.question for group in self.groups}
        for rule in red_flag_rules(definition):
            if not covered & set(rule_questions(rule)):
                problems.add(("groups",), f"the {rule.tier.value} rule {rule.id!r} has no group of phrases")
        for index, item in enumerate(self.contradictions):
            for position, marked in enumerate(item.marked):
                loc = ("contradictions", index, "marked", position)
                question = questions.get(marked.question)
                if question is None or question.type not in CHOICE_TYPES:
                    problems.add((*loc, "question"), f"{marked.question!r} is not a choice question")
                    continue
                for value_index, value in enumerate(marked.any_of):
                    if value not in question.choice_values:
                        problems.add((*loc, "any_of", value_index), f"{value!r} is not an answer of {question.id!r}")


def red_flag_rules(definition: Definition) -> list[Rule]:
    return [rule for rule in definition.rules if rule.tier in RED_FLAG_TIERS]


def rule_questions(rule: Rule) -> list[str]:
    return [leaf.subject for leaf in condition_subjects(rule.when) if leaf.kind == "question"]


def tier_if_denied(definition: Definition, group: GroupFile) -> Tier:
    """The tier a possible red flag keeps when the patient, asked again, says no (hazard log: asked_again_denied)."""
    if group.if_denied is not None:
        return group.if_denied
    rule = rule_for_question(definition, group.question)
    return Tier.URGENT if rule is not None and rule.tier is Tier.EMERGENCY else Tier.REVIEW


def rule_for_question(definition: Definition, question_id: str) -> Rule | None:
    """The most serious red-flag rule resting on the question (the rule a finding points at)."""
    rules = [rule for rule in red_flag_rules(definition) if question_id in rule_questions(rule)]
    return max(rules, key=lambda rule: rule.tier.rank, default=None)
