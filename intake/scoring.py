"""Scored instruments defined as data: points per answer, sums (total and subscales), bands by threshold.

A clinic that holds a licence for an instrument (STarT Back, say) adds it to a definition file: its items as
questions, the points for each answer, the sums and the bands. Nothing here knows any instrument by name.
Scoring reads answers leniently and never raises; a band may raise the triage tier but never lowers it
(see `intake.triage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from intake.conditions import condition_true
from intake.definitions import Definition, Instrument, Tier
from intake.definitions.types import MULTI_TYPES, Score


@dataclass(frozen=True)
class InstrumentResult:
    instrument_id: str
    title: str
    source: str
    # Score id -> sum of the answered items' points. Empty when the instrument is incomplete.
    scores: dict[str, int | float]
    band_id: str | None
    band_label: str
    tier: Tier | None
    missing: tuple[str, ...]
    complete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "title": self.title,
            "source": self.source,
            "scores": dict(self.scores),
            "band": self.band_id,
            "band_label": self.band_label,
            "tier": self.tier.value if self.tier else None,
            "missing": list(self.missing),
            "complete": self.complete,
        }


def instrument_score(*, instrument: Instrument, definition: Definition, values: Mapping[str, Any]) -> InstrumentResult:
    """Score one instrument from answers already read by `answers_read`.

    An item without an answer (or with an answer that has no points) is missing. With more than
    ``max_missing`` items missing the instrument is incomplete: no scores and no band, never a guess.
    """
    points: dict[str, int | float] = {}
    missing: list[str] = []
    for item in instrument.items:
        question = definition.question(item.question_id)
        value = values.get(item.question_id)
        item_points: int | float | None
        if value is None:
            item_points = None
        elif not item.values:
            in_range = isinstance(value, int | float) and question.min_value <= value <= question.max_value
            item_points = value if in_range and not isinstance(value, bool) else None
        elif question.type in MULTI_TYPES and isinstance(value, list):
            item_points = sum(item.points(choice) or 0 for choice in value)
        else:
            item_points = item.points(value)
        if item_points is None:
            missing.append(item.question_id)
        else:
            points[item.question_id] = item_points
    result = InstrumentResult(
        instrument_id=instrument.id,
        title=instrument.title,
        source=instrument.source,
        scores={},
        band_id=None,
        band_label="",
        tier=None,
        missing=tuple(missing),
        complete=False,
    )
    if len(missing) > instrument.max_missing:
        return result
    # A score none of whose items was answered is left out: no answer is not a zero.
    scores = {
        score.id: _score_value(score, points)
        for score in instrument.scores
        if any(item_id in points for item_id in score.item_ids)
    }
    result = replace(result, scores=scores, complete=True)
    for band in instrument.bands:
        if band.when is None or condition_true(band.when, scores):
            return replace(result, band_id=band.id, band_label=band.label, tier=band.tier)
    return result


def _score_value(score: Score, points: Mapping[str, int | float]) -> int | float:
    if score.aggregate == "mean":
        answered = [points[item_id] for item_id in score.item_ids if item_id in points]
        return _tidy(round(sum(answered) / len(answered), 1))
    return _tidy(sum(points.get(item_id, 0) for item_id in score.item_ids))


def _tidy(value: int | float) -> int | float:
    return int(value) if isinstance(value, float) and value.is_integer() else value
