"""Scored instruments as written in a definition file: points per answer, scores and bands."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from intake.definitions.schema.base import (
    FileModel,
    Id,
    Loc,
    Problems,
    Text,
    TierName,
    as_yaml,
    duplicates,
    is_nan,
    kind,
    problem,
    same,
)
from intake.definitions.schema.condition_checks import condition_problems
from intake.definitions.schema.conditions import ConditionFile
from intake.definitions.schema.questions import QuestionFile
from intake.definitions.types import MULTI_TYPES, NUMBER_TYPES, AnswerType, Band, Instrument, Score, ScoreItem

# Scored instruments -----------------------------------------------------------------------------------------


def _points_table(raw: Any) -> Any:
    if not isinstance(raw, Mapping) or not raw:
        raise problem(f"must be a mapping of answer to points, not {kind(raw)}")
    for answer, points in raw.items():
        if isinstance(points, bool) or not isinstance(points, int | float) or is_nan(points):
            raise problem(f"the points for {as_yaml(answer)} must be a number, not {kind(points)}")
    return dict(raw)


# Keys are answers as YAML reads them (true, 2, a choice value), so the table is checked as a whole.
PointsTable = Annotated[
    Any,
    BeforeValidator(_points_table),
    WithJsonSchema({"type": "object", "minProperties": 1, "additionalProperties": {"type": "number"}}),
]


class ScoreItemFile(FileModel):
    question: Id
    values: PointsTable | None = Field(
        None, description="Points for each answer; leave out for a number question (its answer is the points)."
    )

    def to_item(self) -> ScoreItem:
        return ScoreItem(question_id=self.question, values=tuple((self.values or {}).items()))


def _all_or_list(raw: Any) -> Any:
    if raw == "all":
        return raw
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        raise problem(f"must be 'all' or a list of item question ids, not {kind(raw)}")
    return raw


ScoreMembers = Annotated[
    Any,
    BeforeValidator(_all_or_list),
    WithJsonSchema({"anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}),
]


class ScoreFile(FileModel):
    id: Id
    label: Text
    items: ScoreMembers = Field(description="'all', or the question ids of the items it adds up.")
    aggregate: Literal["sum", "mean"] = Field(
        "sum", description="sum: the items' points added up; mean: their average over the answered items."
    )


class BandFile(FileModel):
    id: Id
    label: Text
    when: ConditionFile | None = Field(None, description="Compares scores; leave out for the fallback (last) band.")
    tier: TierName | None = Field(None, description="The triage tier this band raises to (never lowers).")


class InstrumentFile(FileModel):
    """A scored instrument: points per answer, sums (scores) and bands by threshold."""

    id: Id
    title: Text
    source: Text
    items: list[ScoreItemFile] = Field(min_length=1)
    scores: list[ScoreFile] = Field(min_length=1)
    bands: list[BandFile] = Field(min_length=1, description="The first band whose condition is true applies.")
    max_missing: int = Field(0, ge=0, description="How many items may go unanswered before there is no band.")

    @property
    def item_ids(self) -> list[str]:
        return [item.question for item in self.items]

    @model_validator(mode="after")
    def _scores_and_bands_add_up(self) -> InstrumentFile:
        problems = Problems(self)
        problems.extend(duplicates(self.items, "question", ("items",), "{!r} is listed twice"))
        problems.extend(duplicates(self.scores, "id", ("scores",), "duplicate score id {!r}"))
        problems.extend(duplicates(self.bands, "id", ("bands",), "duplicate band id {!r}"))
        for index, score in enumerate(self.scores):
            for member in [] if score.items == "all" else score.items:
                if member not in self.item_ids:
                    problems.add(("scores", index, "items"), f"{member!r} is not an item of this instrument")
        score_ids = {score.id for score in self.scores}
        for index, band in enumerate(self.bands):
            if index and self.bands[index - 1].when is None:
                problems.add(
                    ("bands", index), "comes after the fallback band (the one without 'when'), so it is never used"
                )
            if band.when is not None:
                problems.extend(
                    condition_problems(band.when, ("bands", index, "when"), questions=None, scores=score_ids)
                )
        if self.max_missing >= len(self.items):
            problems.add(("max_missing",), f"must be between 0 and {len(self.items) - 1}")
        problems.raise_any()
        return self

    def to_instrument(self) -> Instrument:
        return Instrument(
            id=self.id,
            title=self.title,
            source=self.source,
            items=tuple(item.to_item() for item in self.items),
            scores=tuple(
                Score(
                    id=score.id,
                    label=score.label,
                    item_ids=tuple(self.item_ids if score.items == "all" else score.items),
                    aggregate=score.aggregate,
                )
                for score in self.scores
            ),
            bands=tuple(
                Band(id=band.id, label=band.label, when=band.when.to_condition() if band.when else None, tier=band.tier)
                for band in self.bands
            ),
            max_missing=self.max_missing,
        )


def score_item_problems(item: ScoreItemFile, question: QuestionFile) -> Iterator[tuple[Loc, str]]:
    """Whether the points table of an item fits the answers its question can have."""
    if question.type is AnswerType.TEXT:
        yield ("question",), f"{question.id!r} is a text question and cannot be scored"
        return
    if item.values is None:
        if question.type not in NUMBER_TYPES:
            yield (), f"missing required field 'values' (points for each answer to {question.id!r})"
        return
    if question.type is AnswerType.YES_NO:
        expected: tuple[Any, ...] = (True, False)
    elif question.type in NUMBER_TYPES:
        low, high = question.number_range
        expected = tuple(range(low, high + 1))
    else:
        expected = question.choice_values
    for answer in item.values:
        if not any(same(answer, value) for value in expected):
            yield ("values",), f"{as_yaml(answer)} is not an answer to {question.id!r}"
    if question.type not in MULTI_TYPES:
        missing = [value for value in expected if not any(same(answer, value) for answer in item.values)]
        if missing:
            yield ("values",), f"no points given for the answer {as_yaml(missing[0])}"
