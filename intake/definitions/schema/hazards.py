"""A definition's clinical safety hazards (``<slug>/v<N>.hazards.yaml``) as pydantic models.

One hazard per triage rule (what happens to a patient whose red flag the rule fails to catch) and one per
screening mechanism (free text, contradictions, asking again, ...), each with its cause, effect, severity and
likelihood before and after its controls, and the controls with the tests that prove them. With the
definition as validation context, every rule must have a hazard and every hazard a rule.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from intake.definitions.schema.base import FileModel, Id, Problems, Text, TierName, problem

TEST_ID_RE = re.compile(r"^tests/[A-Za-z0-9_/]+\.py::[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)?$")


class Severity(StrEnum):
    """DCB0129 consequence categories, least to most serious."""

    MINOR = "minor"
    SIGNIFICANT = "significant"
    CONSIDERABLE = "considerable"
    MAJOR = "major"
    CATASTROPHIC = "catastrophic"


class Likelihood(StrEnum):
    """DCB0129 likelihood categories, least to most likely."""

    VERY_LOW = "very low"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very high"


# The DCB0129 risk matrix: RISK[likelihood][severity], 1 (acceptable) to 5 (unacceptable).
RISK: dict[Likelihood, tuple[int, int, int, int, int]] = {
    Likelihood.VERY_HIGH: (3, 4, 4, 5, 5),
    Likelihood.HIGH: (2, 3, 3, 4, 5),
    Likelihood.MEDIUM: (2, 2, 3, 3, 4),
    Likelihood.LOW: (1, 2, 2, 3, 4),
    Likelihood.VERY_LOW: (1, 1, 2, 2, 3),
}
RISK_WORDS = {1: "acceptable", 2: "acceptable where cited", 3: "undesirable", 4: "unacceptable", 5: "unacceptable"}
# Highest residual risk a hazard may keep for the log to be signed off.
ACCEPTABLE_RESIDUAL = 2


def risk(severity: Severity, likelihood: Likelihood) -> int:
    return RISK[likelihood][list(Severity).index(severity)]


def _one_of(enum: type[StrEnum]):
    def check(raw: object) -> StrEnum:
        if raw not in enum._value2member_map_:
            raise problem(f"{raw!r} is not one of: {', '.join(enum._value2member_map_)}")
        return enum(raw)

    return check


SeverityName = Annotated[Severity, BeforeValidator(_one_of(Severity))]
LikelihoodName = Annotated[Likelihood, BeforeValidator(_one_of(Likelihood))]


def _test_id(value: str) -> str:
    if not TEST_ID_RE.match(value):
        raise problem(f"{value!r} is not a test id like tests/intake/test_triage.py::test_name")
    return value


TestId = Annotated[str, AfterValidator(_test_id)]


class ControlFile(FileModel):
    text: Text = Field(description="What reduces the risk, as the clinical safety officer reads it.")
    tests: list[TestId] = Field(min_length=1, description="The tests that prove the control works.")


class RiskFile(FileModel):
    """The parts every hazard has."""

    hazard: Text = Field(description="The hazard in a few words.")
    cause: Text | None = None
    effect: Text = Field(description="What happens to the patient.")
    severity: SeverityName
    likelihood: LikelihoodName = Field(description="Before the controls.")
    residual_likelihood: LikelihoodName = Field(description="With the controls in place.")
    controls: list[Id] = Field(default_factory=list, description="Controls beyond those of the rule's tier.")


class MechanismFile(RiskFile):
    id: Id
    cause: Text


class SignOffFile(FileModel):
    name: Text
    role: Text
    date: dt.date
    statement: Text


class HazardsFile(FileModel):
    """The hazard log entries of one definition version."""

    definition: Annotated[str, Field(pattern=r"^[a-z0-9-]+/v[1-9][0-9]*$")]
    version: int = Field(ge=1, description="Raised with every reviewed change of this log.")
    tier_causes: dict[TierName, Text] = Field(description="The cause of a missed rule of each tier.")
    tier_controls: dict[TierName, list[Id]] = Field(description="The controls every rule of the tier has.")
    controls: dict[Id, ControlFile] = Field(min_length=1)
    rules: dict[Id, RiskFile] = Field(min_length=1)
    mechanisms: list[MechanismFile] = Field(min_length=1)
    sign_off: SignOffFile | None = Field(None, description="Filled in by the clinical safety officer.")

    @model_validator(mode="after")
    def _fits_together_and_with_the_definition(self, info: ValidationInfo) -> HazardsFile:
        problems = Problems(self)
        for tier, names in self.tier_controls.items():
            for index, name in enumerate(names):
                if name not in self.controls:
                    problems.add(("tier_controls", tier.value, index), f"unknown control {name!r}")
        for rule_id, entry in self.rules.items():
            for index, name in enumerate(entry.controls):
                if name not in self.controls:
                    problems.add(("rules", rule_id, "controls", index), f"unknown control {name!r}")
            if list(Likelihood).index(entry.residual_likelihood) > list(Likelihood).index(entry.likelihood):
                problems.add(("rules", rule_id, "residual_likelihood"), "controls cannot make a hazard more likely")
        for position, mechanism in enumerate(self.mechanisms):
            if not mechanism.controls:
                problems.add(("mechanisms", position, "controls"), "a screening mechanism needs its controls")
            for index, name in enumerate(mechanism.controls):
                if name not in self.controls:
                    problems.add(("mechanisms", position, "controls", index), f"unknown control {name!r}")
        definition = (info.context or {}).get("definition")
        if definition is not None:
            if self.definition != definition.key:
                problems.add(("definition",), f"is {self.definition!r} but the file belongs to {definition.key}")
            rule_ids = [rule.id for rule in definition.rules]
            for rule_id in rule_ids:
                if rule_id not in self.rules:
                    problems.add(("rules",), f"the rule {rule_id!r} has no hazard")
                if next(rule for rule in definition.rules if rule.id == rule_id).tier not in self.tier_controls:
                    problems.add(("tier_controls",), f"no controls for the tier of the rule {rule_id!r}")
            for rule_id in self.rules:
                if rule_id not in rule_ids:
                    problems.add(("rules", rule_id), f"{definition.key} has no rule {rule_id!r}")
        problems.raise_any()
        return self
