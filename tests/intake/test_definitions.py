"""Definition files are validated on load, and every version stays readable after a newer one ships."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from intake.body_diagram import SHAPES
from intake.definitions import (
    BACK_PAIN,
    BODY_AREAS,
    DEFINITIONS_DIR,
    AnswerType,
    DefinitionError,
    DefinitionNotFound,
    definition_current,
    definition_get,
    definition_load,
    definitions_registry,
    registry_load,
)
from intake.selectors import questionnaire_response_summary
from intake.services import questionnaire_response_create
from tests.intake.conftest import BROKEN, ROUTINE_ANSWERS_V2, V3_QUESTIONS

BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))


def expected_problem(path: Path) -> str:
    return path.read_text().splitlines()[0].removeprefix("# expect: ")


def test_there_is_a_broken_fixture_for_each_kind_of_mistake():
    assert len(BROKEN_FILES) >= 15


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda path: path.stem)
def test_a_broken_definition_fails_with_a_message_naming_the_file_and_the_problem(path):
    with pytest.raises(DefinitionError) as caught:
        definition_load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected_problem(path) in message


def write_definition(directory: Path, slug: str, version: int, content: dict) -> Path:
    path = directory / slug / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def back_pain_v1_raw() -> dict:
    return yaml.safe_load((DEFINITIONS_DIR / BACK_PAIN / "v1.yaml").read_text())


def test_the_version_in_the_file_must_match_its_name(tmp_path):
    path = write_definition(tmp_path, "back-pain", 1, {**back_pain_v1_raw(), "version": 2})
    with pytest.raises(DefinitionError, match=r"v1\.yaml: version: is 2 but the file is named v1\.yaml"):
        definition_load(path)


def test_the_slug_in_the_file_must_match_its_folder(tmp_path):
    path = write_definition(tmp_path, "neck-pain", 1, back_pain_v1_raw())
    with pytest.raises(DefinitionError, match=r"slug: is 'back-pain' but the file is in 'neck-pain'/"):
        definition_load(path)


def test_a_badly_named_file_in_the_definitions_folder_is_refused(tmp_path):
    write_definition(tmp_path, "back-pain", 1, back_pain_v1_raw())
    (tmp_path / "back-pain" / "latest.yaml").write_text("{}")
    with pytest.raises(DefinitionError, match=r"latest\.yaml: the file name must be v<version>\.yaml"):
        registry_load([tmp_path])


def test_the_shipped_definitions_load_and_the_system_check_passes():
    call_command("check")
    definition = definition_current(BACK_PAIN)
    assert definition.key == "back-pain/v3"
    # v2 and v3 ask every question that decides the tier first: the emergency flags, then the age and urgent flags.
    assert [step.id for step in definition.steps if step.screening] == ["safety", "health"]
    assert any(question.type is AnswerType.BODY_AREA for question in definition.questions)
    # v1 stays readable for the responses that answered it, with its one screening step.
    v1 = definition_get(BACK_PAIN, 1)
    v2 = definition_get(BACK_PAIN, 2)
    assert [step.id for step in v1.steps if step.screening] == ["safety"]
    # Apart from which steps screen, v2 asks the same questions and applies the same rules as v1.
    assert [(q.id, q.text, q.choices) for q in v1.questions] == [(q.id, q.text, q.choices) for q in v2.questions]
    assert v1.rules == v2.rules
    # v3 adds three questions to the health step and their two urgent rules, and its age rules no longer wait for
    # the history question asked after the reference (issue 23); every other question and rule is v2's.
    health = next(step for step in definition.steps if step.id == "health")
    assert [q.id for q in health.questions][-3:] == list(V3_QUESTIONS)
    assert [(q.id, q.text, q.choices) for q in definition.questions if q.id not in V3_QUESTIONS] == [
        (q.id, q.text, q.choices) for q in v2.questions
    ]
    changed = {"age_under_20_new_pain", "age_over_50_new_pain"}
    assert [rule for rule in v2.rules if rule.id not in changed] == [
        rule for rule in definition.rules if rule.id not in changed | {"thoracic_pain", "minor_trauma_fracture_risk"}
    ]


def test_the_system_check_reports_a_broken_definition(settings, tmp_path):
    write_definition(tmp_path, "back-pain", 1, back_pain_v1_raw())
    shutil.copy(BROKEN / "unknown_tier.yaml", tmp_path / "back-pain" / "v2.yaml")
    settings.INTAKE_DEFINITION_DIRS = [tmp_path]
    with pytest.raises(SystemCheckError, match=r"v2\.yaml: rules\[0\]\.tier: 'critical' is not a tier"):
        call_command("check")


def test_every_body_area_has_a_shape_on_the_diagram():
    drawn = {shape.area for shape in SHAPES if shape.area}
    assert drawn == set(BODY_AREAS)
    # Left and right are the patient's own: on the back view their left is on the viewer's left.
    back_left = next(s for s in SHAPES if s.area == "buttock_left" and s.view == "back")
    back_right = next(s for s in SHAPES if s.area == "buttock_right" and s.view == "back")
    assert back_left.x < back_right.x
    front_left = next(s for s in SHAPES if s.area == "thigh_left" and s.view == "front")
    front_right = next(s for s in SHAPES if s.area == "thigh_right" and s.view == "front")
    assert front_left.x > front_right.x


# Versions -------------------------------------------------------------------------------------------------------


def made_up_v2(raw: dict) -> dict:
    """A made-up back-pain v2: a reworded question, a new choice value and an extra question."""
    v2 = {**raw, "version": 2}
    steps = [dict(step, questions=[dict(q) for q in step["questions"]]) for step in raw["steps"]]
    health = next(step for step in steps if step["id"] == "health")
    next(q for q in health["questions"] if q["id"] == "fever")["text"] = "Have you had a fever this week (v2)?"
    health["questions"].append({"id": "smoker", "type": "yes_no", "text": "Do you smoke (v2)?"})
    v2["steps"] = steps
    return v2


@pytest.mark.django_db
def test_a_response_keeps_answering_to_its_version_after_v2_ships(settings, tmp_path):
    response = questionnaire_response_create(definition=definition_get(BACK_PAIN, 1), answers=ROUTINE_ANSWERS_V2)
    assert (response.questionnaire, response.definition_version) == ("back-pain", 1)

    raw = back_pain_v1_raw()
    write_definition(tmp_path, "back-pain", 1, raw)
    write_definition(tmp_path, "back-pain", 2, made_up_v2(raw))
    settings.INTAKE_DEFINITION_DIRS = [tmp_path]
    assert definition_current(BACK_PAIN).version == 2
    assert definitions_registry().versions(BACK_PAIN) == [1, 2]

    response.refresh_from_db()
    assert response.definition.version == 1
    summary = questionnaire_response_summary(response=response)
    texts = {line.question_id: line.question_text for line in summary.lines}
    assert texts["fever"] == "Do you have a high temperature, or do you feel hot and shivery?"
    assert "smoker" not in texts

    # A new patient answers v2, including its new question; the two responses sit side by side.
    newer = questionnaire_response_create(
        definition=definition_current(BACK_PAIN), answers={**ROUTINE_ANSWERS_V2, "smoker": True}
    )
    assert newer.definition_version == 2
    assert newer.answers.get(question_id="smoker").value is True
    newer_texts = {
        line.question_id: line.question_text for line in questionnaire_response_summary(response=newer).lines
    }
    assert newer_texts["fever"] == "Have you had a fever this week (v2)?"


@pytest.mark.django_db
def test_a_response_whose_version_is_gone_still_shows_its_answers(settings, tmp_path):
    response = questionnaire_response_create(definition=definition_get(BACK_PAIN, 1), answers=ROUTINE_ANSWERS_V2)
    raw = back_pain_v1_raw()
    write_definition(tmp_path, "back-pain", 2, made_up_v2(raw))
    settings.INTAKE_DEFINITION_DIRS = [tmp_path]
    with pytest.raises(DefinitionNotFound):
        definition_get(BACK_PAIN, 1)
    summary = questionnaire_response_summary(response=response)
    assert {line.question_id: line.answer_text for line in summary.lines}["age"] == "34"
