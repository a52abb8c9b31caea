"""Red flags outside the safety questions: in the patient's own words, and in answers that contradict a "no".

`screening_findings` reads every free-text answer (and any other text given with the answers, such as the
request's reason) against the definition's lexicon, and compares the body diagram and pain descriptions with
the safety answers. Each finding names the safety question it points at; triage turns it into a "possible red
flag" reason at priority urgent (never emergency: text alone is not enough), and the patient flow asks that
question again in plain words (`screening_rechecks`).

Findings quote the patient. They go to the stored triage reasons that staff read, never to logs, e-mails or
task arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.conditions import condition_match
from intake.definitions import AnswerType, Definition
from intake.screening.lexicon import (
    Lexicon,
    LexiconError,
    lexicon_for_definition,
    red_flag_rules,
    rule_for_question,
    rule_questions,
    tier_if_denied,
)
from intake.screening.text import matcher_for

# "I'm 82", "aged 75", "at 80", "71 years old", "71yo": an age the patient wrote (the older of it and the answer
# counts, the safe reading).
AGE_IN_TEXT_RE = re.compile(
    r"\b(?:i\s*['\u2019]?\s*a?m|i am|is|aged?|at the age of|at)\s+(\d{1,3})\b"
    r"(?!\s*(?:%|kg|lbs?|mins?|minutes|hours|am|pm|mph|km|miles|degrees|st\b|stone|pounds|kilos))"
    r"|\b(\d{1,3})\s*(?:-|\s)?\s*(?:years?|yrs?|y)\s*(?:-|\s)?\s*old\b|\b(\d{1,3})\s*yo\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One thing the patient wrote or marked that points at a safety question."""

    question_id: str  # the safety question it points at
    found_in: str  # the question id (or other text's key) it was found in
    kind: str  # "text" or "contradiction"
    quote: str  # the patient's words, or what the contradiction is ("You marked pain in both legs ...")
    entry: str  # the phrase or contradiction id that matched

    @property
    def prompt(self) -> str:
        """How the patient is reminded of it when asked again."""
        return f"You wrote \u2018{self.quote}\u2019." if self.kind == "text" else self.quote


@dataclass(frozen=True)
class Recheck:
    """A safety question to ask again, with what the patient wrote or marked."""

    question_id: str
    prompt: str
    question: str


def screening_lexicon(definition: Definition) -> Lexicon | None:
    return lexicon_for_definition(definition)


def screening_findings(
    *,
    definition: Definition,
    values: Mapping[str, Any],
    other_text: Mapping[str, str] | None = None,
    rechecks: Mapping[str, bool] | None = None,
) -> list[Finding]:
    """What points at a safety question that is not answered yes (or that was asked again), lexicon order.

    ``values`` are answers as triage reads them. A safety question answered yes needs no finding: its own
    rule has matched, unless the patient was asked again (``rechecks``), which staff should see.
    """
    lexicon = lexicon_for_definition(definition)
    if lexicon is None:
        return []
    rechecks = rechecks or {}
    matcher = matcher_for(lexicon)
    texts: list[tuple[str, str]] = [
        (question.id, values[question.id])
        for question in definition.questions
        if question.type is AnswerType.TEXT and isinstance(values.get(question.id), str)
    ]
    texts += [(key, text) for key, text in (other_text or {}).items() if isinstance(text, str)]
    findings: list[Finding] = []
    for found_in, text in texts:
        for match in matcher.groups_in(text[:5000]):
            findings.append(Finding(match.question_id, found_in, "text", match.quote, match.phrase))
    findings = _rules_would_hold(definition, lexicon, values, findings, [text for _, text in texts])
    for item in lexicon.contradictions:
        if all(_marked(values.get(marked.question), marked.any_of) for marked in item.marked):
            findings.append(Finding(item.question, item.marked[0].question, "contradiction", item.said, item.id))
    order = [group.question for group in lexicon.groups]
    findings.sort(key=lambda finding: order.index(finding.question_id))
    return [
        finding
        for finding in findings
        if values.get(finding.question_id) is not True or finding.question_id in rechecks
    ]


def screening_rechecks(
    *,
    definition: Definition,
    values: Mapping[str, Any],
    other_text: Mapping[str, str] | None = None,
    rechecks: Mapping[str, bool] | None = None,
) -> list[Recheck]:
    """The safety questions still to ask again (one per question, quoting the first finding)."""
    lexicon = lexicon_for_definition(definition)
    rechecks = rechecks or {}
    pending: dict[str, Recheck] = {}
    for finding in screening_findings(definition=definition, values=values, other_text=other_text):
        if finding.question_id in rechecks or finding.question_id in pending:
            continue
        group = lexicon.group(finding.question_id)
        pending[finding.question_id] = Recheck(finding.question_id, finding.prompt, group.recheck)
    return list(pending.values())


def screening_text(*, definition: Definition, text: str, values: Mapping[str, Any] | None = None) -> list[str]:
    """The safety questions that one text points at, lexicon order (what the screen makes of a sentence)."""
    found = screening_findings(definition=definition, values=values or {}, other_text={"text": text})
    return list(dict.fromkeys(finding.question_id for finding in found if finding.kind == "text"))


def age_in_text(texts: list[str]) -> int | None:
    """The first plausible age (16 to 120) the patient wrote ("I'm 82", "aged 75", "71 years old"), or None."""
    for text in texts:
        for found in AGE_IN_TEXT_RE.finditer(text[:5000]):
            age = int(next(group for group in found.groups() if group))
            if 16 <= age <= 120:
                return age
    return None


def _rules_would_hold(
    definition: Definition,
    lexicon: Lexicon,
    values: Mapping[str, Any],
    findings: list[Finding],
    texts: list[str],
) -> list[Finding]:
    """Drop a finding of a ``needs_rule`` group unless its rule would hold, were each question found answered yes.

    "I slipped on the stairs" points at a fracture only with a risk: thin bones or steroids (answered, or written
    too) or an age over 70 (answered, or written: "I'm 82")."""
    if not any(lexicon.group(finding.question_id).needs_rule for finding in findings):
        return findings
    supposed = dict(values)
    for finding in findings:
        supposed[finding.question_id] = True
    # The older of the answered and the written age: the safe reading when they differ.
    written = age_in_text(texts)
    answered = supposed.get("age") if isinstance(supposed.get("age"), int | float) else None
    if written is not None and (answered is None or written > answered):
        supposed["age"] = written
    held = {
        question
        for rule in red_flag_rules(definition)
        if condition_match(rule.when, supposed) is not None
        for question in rule_questions(rule)
    }
    return [
        finding
        for finding in findings
        if not lexicon.group(finding.question_id).needs_rule or finding.question_id in held
    ]


def _marked(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, str):
        return value in wanted
    return isinstance(value, list | tuple) and any(item in wanted for item in value)


__all__ = [
    "Finding",
    "Lexicon",
    "LexiconError",
    "Recheck",
    "lexicon_for_definition",
    "rule_for_question",
    "screening_findings",
    "screening_lexicon",
    "screening_rechecks",
    "screening_text",
    "tier_if_denied",
]
