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
  * Free text and contradicting answers (`intake.screening`): each safety question that the patient's own
    words or marks point at, while its answer is not yes, gives a "possible red flag" reason naming the
    phrase or the contradiction, at urgent: text alone never makes an emergency, and like every reason it can
    only raise the tier. A patient who, asked again, says yes has answered the safety question yes, so its
    own rule applies as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.answers import answers_read
from intake.conditions import condition_match
from intake.definitions import TIER_ORDER, Definition, Tier, tier_highest
from intake.scoring import InstrumentResult, instrument_score
from intake.screening import Finding, lexicon_for_definition, rule_for_question, screening_findings, tier_if_denied

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
    # False when the reason tells staff but calls for no advice to the patient: a possible red flag in their words
    # not yet asked again, or asked again and answered "no".
    advise: bool = True

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
            "advise": self.advise,
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
            advise=data.get("advise", True) is not False,
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
    def advice_tier(self) -> Tier:
        """The tier whose advice the patient is given: that of the reasons that advise (`Reason.advise`)."""
        return reasons_advice_tier(self.reasons)

    @property
    def red_flags(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.is_red_flag)

    def reasons_json(self) -> list[dict[str, Any]]:
        return [reason.to_json() for reason in self.reasons]

    def scores_json(self) -> list[dict[str, Any]]:
        return [result.to_json() for result in self.scores]


def reasons_advice_tier(reasons: tuple[Reason, ...] | list[Reason]) -> Tier:
    return tier_highest(*(reason.tier for reason in reasons if reason.advise))


POSSIBLE_RED_FLAG = "possible_red_flag"
# Where a finding was, when it is not a questionnaire answer (those are named by the reason's evidence).
OTHER_TEXT_PLACES = {"reason": " in the request's reason"}
# A message the patient sent after the questionnaire (a text message): keyed "<MESSAGE_PREFIX><its id>".
MESSAGE_PREFIX = "message_"


def triage_compute(
    *,
    definition: Definition,
    answers: Any,
    other_text: Mapping[str, str] | None = None,
    rechecks: Mapping[str, bool] | None = None,
    messages: Mapping[str, str] | None = None,
) -> TriageResult:
    """Tier, reasons and scores for ``answers`` (question id -> answer) under ``definition``.

    ``other_text`` is text given with the answers that is not a question of the definition (the request's
    reason, keyed "reason"); ``rechecks`` maps a safety question asked again to the patient's answer.
    ``messages`` are messages the patient sent later (a text message, keyed "message_<id>"): nobody can ask the
    patient a safety question again inside a message, so a finding in one counts, for staff, at the tier of the
    safety question it points at (a text saying "I've lost control of my bladder" is an emergency for staff); it
    gives the patient no advice (they are not on a page).

    Guarantees: never raises; the tier is the highest tier of the matching rules, scoring bands and screening
    findings (routine when none match), so it is never below the tier of any red flag present; a finding is
    urgent, never emergency; partial answers (the screening step alone, say) are fine and give the tier of
    what has been answered so far.
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
    if not isinstance(other_text, Mapping):
        other_text = None
    if not isinstance(rechecks, Mapping):
        rechecks = None
    findings = screening_findings(definition=definition, values=values, other_text=other_text, rechecks=rechecks)
    reasons.extend(_possible_red_flags(definition, values, findings, rechecks or {}))
    if isinstance(messages, Mapping) and messages:
        for key, text in messages.items():
            found = screening_findings(definition=definition, values=values, other_text={key: text})
            reasons.extend(_message_red_flags(definition, key, found))
    # A stable sort keeps the definition's order within a tier.
    reasons.sort(key=lambda reason: -reason.tier.rank)
    tier = tier_highest(*(reason.tier for reason in reasons))
    return TriageResult(tier=tier, reasons=tuple(reasons), scores=scores, unreadable=unreadable)


def _possible_red_flags(
    definition: Definition, values: Mapping[str, Any], findings: list[Finding], rechecks: Mapping[str, bool]
) -> list[Reason]:
    """One urgent reason per safety question that findings point at, quoting what was written or marked."""
    lexicon = lexicon_for_definition(definition)
    by_question: dict[str, list[Finding]] = {}
    for finding in findings:
        by_question.setdefault(finding.question_id, []).append(finding)
    reasons = []
    for question_id, found in by_question.items():
        rule = rule_for_question(definition, question_id)
        group = lexicon.group(question_id)
        evidence: list[tuple[str, Any]] = []
        for finding in found:
            if finding.kind == "text":
                evidence.append((finding.found_in, finding.quote))
                continue
            contradiction = next(item for item in lexicon.contradictions if item.id == finding.entry)
            for marked in contradiction.marked:
                if (marked.question, values.get(marked.question)) not in evidence:
                    evidence.append((marked.question, values.get(marked.question)))
        what = "; ".join(
            f"wrote \u2018{finding.quote}\u2019{OTHER_TEXT_PLACES.get(finding.found_in, '')}"
            if finding.kind == "text"
            else next(item.staff for item in lexicon.contradictions if item.id == finding.entry)
            for finding in found
        )
        answered = {True: "yes", False: "no"}.get(values.get(question_id), "not answered")
        said = rechecks.get(question_id)
        asked_again = {True: "yes", False: "no"}.get(said)
        text = f"{what[0].upper()}{what[1:]}. Points at: {rule.reason} Safety question answered {answered}"
        text += f"; asked again: {asked_again}." if asked_again else "."
        # Asked again, a "no" keeps the patient's words in front of a clinician (the same day for an emergency
        # question) but gives the patient no advice; a "yes" is a yes to the question, whose own rule advises.
        tier = tier_if_denied(definition, group) if said is False else Tier.URGENT
        reasons.append(
            Reason(
                rule_id=f"{POSSIBLE_RED_FLAG}.{question_id}",
                tier=tier,
                advise=False,
                question_id=evidence[0][0],
                answer=evidence[0][1],
                text=text,
                source=f"Red-flag lexicon {lexicon.definition} version {lexicon.version}: "
                f"{lexicon.source_titles(group.sources)}",
                evidence=tuple(evidence),
            )
        )
    return reasons


def _message_red_flags(definition: Definition, key: str, findings: list[Finding]) -> list[Reason]:
    """One reason per safety question a later message points at, at that question's own tier, one rule id per
    message (so a later message never replaces an earlier one's reason)."""
    lexicon = lexicon_for_definition(definition)
    reasons = []
    for question_id in dict.fromkeys(finding.question_id for finding in findings if finding.kind == "text"):
        rule = rule_for_question(definition, question_id)
        group = lexicon.group(question_id)
        quotes = [finding.quote for finding in findings if finding.question_id == question_id]
        what = "; ".join(f"\u2018{quote}\u2019" for quote in quotes)
        reasons.append(
            Reason(
                rule_id=f"{POSSIBLE_RED_FLAG}.{question_id}.{key}",
                tier=rule.tier,
                advise=False,
                question_id=key,
                answer=quotes[0],
                text=f"Wrote {what} in a text message. Points at: {rule.reason} "
                "Not asked again: a text cannot be; call the patient.",
                source=f"Red-flag lexicon {lexicon.definition} version {lexicon.version}: "
                f"{lexicon.source_titles(group.sources)}",
                evidence=tuple((key, quote) for quote in quotes),
            )
        )
    return reasons


__all__ = [
    "MESSAGE_PREFIX",
    "POSSIBLE_RED_FLAG",
    "RED_FLAG_TIERS",
    "TIER_ORDER",
    "TIER_PRIORITY",
    "Reason",
    "Tier",
    "TriageResult",
    "reasons_advice_tier",
    "triage_compute",
]
