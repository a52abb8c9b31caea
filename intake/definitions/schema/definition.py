"""A whole definition file: its triage rules, the checks across its parts, and its JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ConfigDict, Field, model_validator

from intake.definitions.schema.base import FileModel, Id, Loc, Problems, Slug, Text, TierName, duplicates
from intake.definitions.schema.condition_checks import condition_problems
from intake.definitions.schema.conditions import ConditionFile
from intake.definitions.schema.questions import QuestionFile, StepFile
from intake.definitions.schema.scoring import InstrumentFile, score_item_problems
from intake.definitions.types import Definition, Rule, Tier

# Triage rules -----------------------------------------------------------------------------------------------


class RuleFile(FileModel):
    """A triage rule: when its condition is true the tier is at least this one."""

    id: Id
    tier: TierName
    when: ConditionFile
    reason: Text = Field(description="Shown to staff: why this answer matters.")
    source: Text = Field(description="The public guidance the rule comes from.")

    def to_rule(self) -> Rule:
        return Rule(id=self.id, tier=self.tier, when=self.when.to_condition(), reason=self.reason, source=self.source)


# The definition ---------------------------------------------------------------------------------------------


class DefinitionFile(FileModel):
    """A questionnaire definition file: ``intake/definitions/<slug>/v<version>.yaml``."""

    model_config = ConfigDict(
        title="Questionnaire definition",
        json_schema_extra={
            "description": "One version of an intake questionnaire (intake/definitions/<slug>/v<version>.yaml): "
            "its steps and questions, triage rules and scored instruments."
        },
    )

    slug: Slug = Field(description="The questionnaire's name; the folder the file is in.")
    version: int = Field(ge=1, description="The N of the file name vN.yaml; a change of meaning is a new version.")
    title: Text
    intro: Text | None = Field(None, description="Shown before the first question.")
    steps: list[StepFile] = Field(min_length=1, description="The pages, in order; screening steps first.")
    rules: list[RuleFile] = Field(default_factory=list, description="Triage rules; the highest matching tier wins.")
    instruments: list[InstrumentFile] = Field(default_factory=list, description="Scored instruments.")

    def questions(self) -> Iterator[tuple[Loc, QuestionFile]]:
        for step_index, step in enumerate(self.steps):
            for index, question in enumerate(step.questions):
                yield ("steps", step_index, "questions", index), question

    @model_validator(mode="after")
    def _steps_and_questions_fit_together(self) -> DefinitionFile:
        problems = Problems(self)
        problems.extend(duplicates(self.steps, "id", ("steps",), "duplicate step id {!r}"))
        others_started = False
        for index, step in enumerate(self.steps):
            if step.screening and others_started:
                problems.add(("steps", index, "screening"), "screening steps must come before all other steps")
            others_started = others_started or not step.screening
        # A question may only be shown on the answer to a question asked before it.
        asked: dict[str, QuestionFile] = {}
        for loc, question in self.questions():
            if question.id in asked:
                problems.add((*loc, "id"), f"duplicate question id {question.id!r}")
            if question.show_if is not None:
                problems.extend(condition_problems(question.show_if, (*loc, "show_if"), questions=asked, scores=None))
            asked.setdefault(question.id, question)
        problems.raise_any()
        return self

    @model_validator(mode="after")
    def _rules_use_the_questions(self) -> DefinitionFile:
        problems = Problems(self)
        questions = {question.id: question for _, question in self.questions()}
        screening = {question.id for step in self.steps if step.screening for question in step.questions}
        problems.extend(duplicates(self.rules, "id", ("rules",), "duplicate rule id {!r}"))
        for index, rule in enumerate(self.rules):
            where = ("rules", index, "when")
            found = list(condition_problems(rule.when, where, questions=questions, scores=None))
            problems.extend(iter(found))
            if rule.tier is Tier.EMERGENCY and not found:
                # The emergency advice is shown before any further question, so an emergency can only rest on
                # answers from the screening steps.
                outside = [leaf.question for leaf in _leaves(rule.when) if leaf.question not in screening]
                if outside:
                    problems.add(where, f"an emergency rule may only use screening questions, not {outside[0]!r}")
        problems.raise_any()
        return self

    @model_validator(mode="after")
    def _instruments_score_the_questions(self) -> DefinitionFile:
        problems = Problems(self)
        questions = {question.id: question for _, question in self.questions()}
        problems.extend(duplicates(self.instruments, "id", ("instruments",), "duplicate instrument id {!r}"))
        for index, instrument in enumerate(self.instruments):
            for item_index, item in enumerate(instrument.items):
                loc = ("instruments", index, "items", item_index)
                if item.question not in questions:
                    problems.add((*loc, "question"), f"unknown question {item.question!r}")
                    continue
                problems.extend(
                    (loc + where, message) for where, message in score_item_problems(item, questions[item.question])
                )
        problems.raise_any()
        return self

    def to_definition(self, path: Path | None = None) -> Definition:
        return Definition(
            slug=self.slug,
            version=self.version,
            title=self.title,
            intro=self.intro or "",
            steps=tuple(step.to_step() for step in self.steps),
            rules=tuple(rule.to_rule() for rule in self.rules),
            instruments=tuple(instrument.to_instrument() for instrument in self.instruments),
            path=path,
        )


def _leaves(condition: ConditionFile) -> Iterator[ConditionFile]:
    if condition.combinator:
        for _, part in condition.parts:
            yield from _leaves(part)
    else:
        yield condition


# The JSON Schema ---------------------------------------------------------------------------------------------

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def definition_json_schema_text() -> str:
    """The JSON Schema of a definition file, as committed in ``docs/questionnaire-definition.schema.json``."""
    schema = {"$schema": JSON_SCHEMA_DIALECT, **DefinitionFile.model_json_schema()}
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
