"""Triage: from a set of answers, the tier (how soon), the staff priority and the reasons why.

This is the one place where triage logic lives. The rules themselves are data in the versioned definition
file (``intake/definitions/back-pain/v1.yaml``), each with its public source, so that a change to a rule is
reviewed like code and every stored response records which version of the rules it was judged by.

The rules of back-pain v1 and their sources (keep in step with the definition file; the table test in
``tests/intake/test_triage.py`` checks every one):

  Emergency: call the emergency number or go to the emergency department now.
    saddle_numbness        numbness around genitals, buttocks, inner thighs   NHS back pain urgent advice; GIRFT
                                                                              cauda equina pathway
    urine_trouble          new trouble passing urine                          NHS; GIRFT cauda equina pathway
    bladder_bowel_control  loss of bladder or bowel control                   NHS; GIRFT cauda equina pathway
    both_legs              weakness, numbness or pain in both legs            NHS; GIRFT cauda equina pathway
    leg_weakening          a leg getting rapidly weaker                       NHS; NICE NG59
    serious_fall           back pain after a serious fall or accident         NHS back pain urgent advice
    chest_pain             chest pain with the back pain                      NHS back pain urgent advice
  Urgent: see a doctor today.
    fever                  fever, or hot and shivery                          NHS see a GP urgently; NICE NG59
    weight_loss            unexplained weight loss                            NHS; NICE NG59
    back_lump              lump, swelling or change in shape of the back      NHS see a GP urgently
    rest_night_pain        pain not eased by rest or worse at night           NHS; NICE NG59
    cancer_history         history of cancer                                  NHS; NICE NG59
    immune_or_steroids     weakened immune system or long-term steroids       NHS; NICE NG59
    injected_drugs         injected drug use                                  NICE NG59
  Review: a clinician looks before routine booking.
    age_under_20_new_pain  under 20 with new back pain                        NICE NG59
    age_over_50_new_pain   over 50 with new back pain                         NICE NG59
    under_16               under 16                                           clinic policy (NG59 covers 16+)
    not_improving_after_month  not improving after a month                    NHS see a GP if not improving

How rules combine (clinical safety):
  * The highest tier of any matching rule wins. Rules are never counted or added up, so one weak flag (age,
    say) can only ever reach its own tier and never makes an emergency; neither do several weak flags.
  * Nothing lowers a tier: a rule or a scoring band can only raise it, and a validated score never lowers a
    red-flag tier.
  * Answers are read leniently ("yes", 1 and True are all yes) and answers to questions that `show_if` would
    hide still count: a red flag is never ignored because of how the form was filled in.
  * `triage_compute` never raises, whatever it is given; unreadable answers are listed for staff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.answers import answers_read
from intake.conditions import condition_match
from intake.definitions import TIER_ORDER, Definition, Tier, tier_highest
from intake.scoring import InstrumentResult, instrument_score

# Staff queue priority for each tier: 1 is seen first. The callbacks app maps this onto its own field.
TIER_PRIORITY: dict[Tier, int] = {Tier.EMERGENCY: 1, Tier.URGENT: 2, Tier.REVIEW: 3, Tier.ROUTINE: 4}

RED_FLAG_TIERS = frozenset({Tier.EMERGENCY, Tier.URGENT})


@dataclass(frozen=True)
class Reason:
    """Why the tier is what it is: which rule matched, on which answer, and where the rule comes from."""

    rule_id: str
    tier: Tier
    # The first answer that made the rule match (None for a scoring band or a rule on an absence).
    question_id: str | None
    answer: Any
    text: str
    source: str
    # Every (question or score id, value) that made the rule match.
    evidence: tuple[tuple[str, Any], ...] = ()

    @property
    def is_red_flag(self) -> bool:
        return self.tier in RED_FLAG_TIERS

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "tier": self.tier.value,
            "question_id": self.question_id,
            "answer": self.answer,
            "text": self.text,
            "source": self.source,
            "evidence": [[subject, value] for subject, value in self.evidence],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            rule_id=data["rule_id"],
            tier=Tier(data["tier"]),
            question_id=data.get("question_id"),
            answer=data.get("answer"),
            text=data.get("text", ""),
            source=data.get("source", ""),
            evidence=tuple((subject, value) for subject, value in data.get("evidence", [])),
        )


@dataclass(frozen=True)
class TriageResult:
    tier: Tier
    # Most serious first, then in the order the definition lists its rules.
    reasons: tuple[Reason, ...]
    scores: tuple[InstrumentResult, ...] = ()
    # Questions whose answers were given but could not be read (shown to staff; never silently dropped).
    unreadable: tuple[str, ...] = ()

    @property
    def priority(self) -> int:
        """Staff queue priority: 1 (emergency, first) to 4 (routine)."""
        return TIER_PRIORITY[self.tier]

    @property
    def is_emergency(self) -> bool:
        return self.tier is Tier.EMERGENCY

    @property
    def red_flags(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.is_red_flag)

    def reasons_json(self) -> list[dict[str, Any]]:
        return [reason.to_json() for reason in self.reasons]

    def scores_json(self) -> list[dict[str, Any]]:
        return [result.to_json() for result in self.scores]


def triage_compute(*, definition: Definition, answers: Any) -> TriageResult:
    """Tier, reasons and scores for ``answers`` (question id -> answer) under ``definition``.

    Guarantees: never raises; the tier is the highest tier of the matching rules and scoring bands (routine
    when none match), so it is never below the tier of any red flag present; partial answers (the screening
    step alone, say) are fine and give the tier of what has been answered so far.
    """
    values, unreadable = answers_read(definition=definition, answers=answers)
    reasons: list[Reason] = []
    for rule in definition.rules:
        evidence = condition_match(rule.when, values)
        if evidence is None:
            continue
        first = evidence[0] if evidence else None
        reasons.append(
            Reason(
                rule_id=rule.id,
                tier=rule.tier,
                question_id=first.subject if first else None,
                answer=first.value if first else None,
                text=rule.reason,
                source=rule.source,
                evidence=tuple((item.subject, item.value) for item in evidence),
            )
        )
    scores = tuple(
        instrument_score(instrument=instrument, definition=definition, values=values)
        for instrument in definition.instruments
    )
    for result in scores:
        if result.tier is not None:
            reasons.append(
                Reason(
                    rule_id=f"{result.instrument_id}.{result.band_id}",
                    tier=result.tier,
                    question_id=None,
                    answer=None,
                    text=f"{result.title}: {result.band_label}",
                    source=result.source,
                    evidence=tuple(result.scores.items()),
                )
            )
    # A stable sort keeps the definition's order within a tier.
    reasons.sort(key=lambda reason: -reason.tier.rank)
    tier = tier_highest(*(reason.tier for reason in reasons))
    return TriageResult(tier=tier, reasons=tuple(reasons), scores=scores, unreadable=unreadable)


__all__ = ["RED_FLAG_TIERS", "TIER_ORDER", "TIER_PRIORITY", "Reason", "Tier", "TriageResult", "triage_compute"]
