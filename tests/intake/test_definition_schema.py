"""The pydantic models of a definition file: every mistake reported where it is, and the JSON Schema editors use."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from intake.definitions import DefinitionError, definition_from_dict
from intake.definitions.schema import definition_json_schema_text

SCHEMA_FILE = settings.BASE_DIR / "docs" / "questionnaire-definition.schema.json"


def minimal(**changes) -> dict:
    steps = [
        {
            "id": "safety",
            "title": "Safety",
            "screening": True,
            "questions": [
                {"id": "chest_pain", "type": "yes_no", "text": "Chest pain?"},
                {
                    "id": "tried",
                    "type": "multi_choice",
                    "text": "Tried?",
                    "choices": [{"value": "rest", "label": "Rest"}],
                },
            ],
        }
    ]
    return {"slug": "broken", "version": 1, "title": "Broken", "steps": steps, **changes}


def problems_of(raw: dict) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        definition_from_dict(raw, source="broken.yaml")
    return str(caught.value).splitlines()


def test_the_committed_json_schema_matches_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == definition_json_schema_text(), (
        "docs/questionnaire-definition.schema.json is out of date: run `manage.py questionnaire_schema` and commit it"
    )


def test_the_schema_command_writes_the_file_and_its_check_fails_when_the_file_is_stale(tmp_path):
    output = tmp_path / "schema.json"
    call_command("questionnaire_schema", output=output)
    assert output.read_text(encoding="utf-8") == definition_json_schema_text()
    call_command("questionnaire_schema", output=output, check=True)

    output.write_text(output.read_text().replace('"minLength": 1', '"minLength": 2'))
    with pytest.raises(CommandError, match=r"is out of date: run `manage\.py questionnaire_schema`"):
        call_command("questionnaire_schema", output=output, check=True)
    with pytest.raises(CommandError, match="is out of date"):
        call_command("questionnaire_schema", output=tmp_path / "missing.json", check=True)


def test_the_json_schema_tells_an_editor_the_shape_of_a_file():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["slug", "version", "title", "steps"]
    assert schema["additionalProperties"] is False
    assert defs["Tier"]["enum"] == ["routine", "review", "urgent", "emergency"]
    assert "slider" not in defs["AnswerType"]["enum"]
    assert defs["RuleFile"]["required"] == ["id", "tier", "when", "reason", "source"]
    # What each answer type needs, as if/then clauses a schema-aware editor applies.
    text_needs = {"if": {"properties": {"type": {"const": "text"}}}, "then": {"required": ["max_length"]}}
    assert text_needs in defs["QuestionFile"]["allOf"]
    assert set(defs["ConditionFile"]["properties"]) >= {"all", "any", "not", "question", "score", "equals", "in"}


def test_every_mistake_of_a_file_is_reported_each_at_its_place():
    raw = minimal(version="1", title="  ")
    raw["steps"][0]["questions"][0]["colour"] = "red"
    lines = problems_of(raw)
    assert lines[0] == "broken.yaml: version: must be a whole number, not text '1'"
    assert lines[1:] == [
        "  and title: must be a non-empty string, not blank text",
        "  and steps[0].questions[0].colour: unknown field (allowed: choices, help, id, max, max_label, max_length,"
        " min, min_label, required, show_if, text, type)",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"when": {"question": "chest_pain", "equals": True, "colour": 1}},
            "rules[0].when.colour: unknown field (allowed: all, answered, any, contains, contains_any, equals, gt,"
            " gte, in, lt, lte, not, question, score)",
        ),
        (
            {"when": {"question": "chest_pain", "equals": True, "answered": True}},
            "rules[0].when: needs exactly one comparison",
        ),
        ({"when": {"any": [{"question": "tried", "equals": "rest"}]}}, "rules[0].when.any[0].equals: use 'contains'"),
        ({"when": {"question": "tried", "contains": "massage"}}, "'massage' is not a choice of 'tried' (rest)"),
        ({"when": {"question": "chest_pain", "equals": "yes"}}, "rules[0].when.equals: must be true or false"),
        ({"when": {"score": "total", "gte": 3}}, "rules[0].when.score: scores can only be used in scoring bands"),
        ({"when": {"not": {"question": "chest_pain", "gt": 1}}}, "'gt' needs a number question; 'chest_pain' is"),
        ({"tier": "critical"}, "rules[0].tier: 'critical' is not a tier (one of: routine, review, urgent, emergency)"),
    ],
)
def test_a_rule_condition_is_checked_against_the_question_it_names(change, expected):
    rule = {"id": "chest", "tier": "urgent", "when": {"question": "chest_pain", "equals": True}}
    rule |= {"reason": "Chest pain", "source": "NHS"} | change
    [line, *_] = problems_of(minimal(rules=[rule]))
    assert expected in line


def test_a_points_table_must_give_numbers_and_a_score_lists_items():
    instrument = {
        "id": "tool",
        "title": "Tool",
        "source": "Tests",
        "items": [{"question": "chest_pain", "values": {True: 1, False: "none"}}],
        "scores": [{"id": "total", "label": "Total", "items": "every"}],
        "bands": [{"id": "any", "label": "Any"}],
    }
    assert problems_of(minimal(instruments=[instrument])) == [
        "broken.yaml: instruments[0].items[0].values: the points for false must be a number, not text 'none'",
        "  and instruments[0].scores[0].items: must be 'all' or a list of item question ids, not text 'every'",
    ]
