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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.definitions import AnswerType, Definition
from intake.screening.lexicon import Lexicon, LexiconError, lexicon_for_definition, rule_for_question
from intake.screening.text import matcher_for


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
]
