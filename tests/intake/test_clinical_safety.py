"""The hazard log (docs/CLINICAL_SAFETY.md): complete for every rule, citing tests that exist, and up to date."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from intake.definitions import BACK_PAIN, definition_current, definition_load, definitions_registry
from intake.definitions.schema.hazards import Likelihood, Severity, risk
from intake.hazards import (
    HazardsError,
    cited_test_exists,
    hazard_log_markdown,
    hazard_log_problems,
    hazards_load,
    hazards_path,
)
from intake.screening.lexicon import lexicon_for_definition, red_flag_rules

LOG_FILE = Path(settings.BASE_DIR) / "docs" / "CLINICAL_SAFETY.md"
DEFINITION = definition_current(BACK_PAIN)


def test_the_shipped_hazard_log_is_true():
    assert hazard_log_problems() == []


def test_every_rule_of_every_shipped_definition_has_a_hazard_in_the_log():
    log = LOG_FILE.read_text(encoding="utf-8")
    for definition in definitions_registry().all():
        hazards = hazards_load(definition)
        assert hazards is not None, definition.key
        assert set(hazards.rules) == {rule.id for rule in definition.rules}
        for rule in definition.rules:
            assert f"Rule `{rule.id}` ({rule.tier.value})" in log


def test_every_shipped_definition_with_red_flag_rules_has_a_lexicon():
    for definition in definitions_registry().all():
        if red_flag_rules(definition):
            assert lexicon_for_definition(definition) is not None, definition.key


def test_the_committed_log_is_what_the_command_writes():
    assert LOG_FILE.read_text(encoding="utf-8") == hazard_log_markdown(), (
        "docs/CLINICAL_SAFETY.md is out of date: run `python manage.py clinical_safety_log` and commit it"
    )
    call_command("clinical_safety_log", "--check")


def test_the_check_fails_on_a_stale_log(tmp_path):
    stale = tmp_path / "CLINICAL_SAFETY.md"
    stale.write_text(hazard_log_markdown() + "\nAn edit by hand.\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("clinical_safety_log", "--check", "--output", str(stale))


def test_a_hazard_above_the_acceptable_residual_risk_is_called_out_in_the_log():
    # The log covers every shipped version of every definition.
    above = [
        entry.hazard
        for definition in definitions_registry().all()
        for hazards in [hazards_load(definition)]
        for entry in [*hazards.rules.values(), *hazards.mechanisms]
        if risk(entry.severity, entry.residual_likelihood) > 2
    ]
    log = hazard_log_markdown()
    assert log.count("ABOVE the acceptable level") == len(above)
    for hazard in above:
        section = log.split(hazard, 1)[1].split("####", 1)[0]
        assert "ABOVE the acceptable level" in section


def test_the_risk_matrix_reads_as_dcb0129():
    assert risk(Severity.CATASTROPHIC, Likelihood.VERY_HIGH) == 5
    assert risk(Severity.MINOR, Likelihood.VERY_LOW) == 1
    assert risk(Severity.MAJOR, Likelihood.LOW) == 3


# What makes the log fail ------------------------------------------------------------------------------------------


def _copy_definition(tmp_path, change):
    """The current back-pain with its lexicon and a changed copy of its hazards, in a folder of its own."""
    version = f"v{DEFINITION.version}"
    folder = tmp_path / "back-pain"
    folder.mkdir()
    for suffix in ("", ".lexicon"):
        source = Path(DEFINITION.path).with_name(f"{version}{suffix}.yaml")
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    raw = yaml.safe_load(hazards_path(DEFINITION).read_text(encoding="utf-8"))
    change(raw)
    (folder / f"{version}.hazards.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return definition_load(folder / f"{version}.yaml")


def test_a_rule_without_a_hazard_fails(tmp_path):
    definition = _copy_definition(tmp_path, lambda raw: raw["rules"].pop("chest_pain"))
    with pytest.raises(HazardsError, match="the rule 'chest_pain' has no hazard"):
        hazards_load(definition)
    assert any("'chest_pain' has no hazard" in problem for problem in hazard_log_problems([definition]))


def test_a_control_naming_a_test_that_does_not_exist_fails(tmp_path):
    missing = "tests/intake/test_triage.py::test_that_was_renamed"
    definition = _copy_definition(tmp_path, lambda raw: raw["controls"]["rule_table"]["tests"].append(missing))
    [problem] = hazard_log_problems([definition])
    assert "control 'rule_table' names tests/intake/test_triage.py::test_that_was_renamed" in problem


def test_a_definition_without_a_hazards_file_fails(tmp_path):
    definition = _copy_definition(tmp_path, lambda raw: None)
    hazards_path(definition).unlink()
    assert hazard_log_problems([definition]) == [f"{DEFINITION.key} has no hazards file ({hazards_path(definition)})"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["rules"]["fever"].update(severity="awful"), "'awful' is not one of"),
        (lambda raw: raw["tier_controls"]["urgent"].append("prayer"), "unknown control 'prayer'"),
        (lambda raw: raw["controls"]["rule_table"].update(tests=["test_triage"]), "is not a test id"),
        (lambda raw: raw["rules"].update(made_up=raw["rules"]["fever"]), "has no rule 'made_up'"),
        (
            lambda raw: raw["rules"]["fever"].update(likelihood="very low", residual_likelihood="high"),
            "controls cannot make a hazard more likely",
        ),
    ],
)
def test_a_broken_hazards_file_names_the_problem(tmp_path, change, message):
    definition = _copy_definition(tmp_path, change)
    with pytest.raises(HazardsError) as caught:
        hazards_load(definition)
    assert message in str(caught.value)


def test_cited_tests_are_found_by_name_in_their_file():
    root = Path(settings.BASE_DIR)
    assert cited_test_exists("tests/intake/test_triage.py::test_rule_boundaries", root)
    assert not cited_test_exists("tests/intake/test_triage.py::test_rule_boundary", root)
    assert not cited_test_exists("tests/intake/no_such_file.py::test_rule_boundaries", root)
