"""FHIR R4: every definition version exports as a valid Questionnaire and every answer set as a valid
QuestionnaireResponse (checked with fhir.resources), a definition survives the round trip, and an import says
exactly what it cannot express."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from intake.conditions import AllOf, AnyOf, Leaf, Not
from intake.definitions import (
    DEFINITIONS_DIR,
    AnswerType,
    Choice,
    DefinitionNotFound,
    Question,
    definition_from_dict,
    definition_load,
    definitions_registry,
)
from intake.fhir import questionnaire_from_fhir, questionnaire_to_fhir, resource_json
from intake.fhir.enable_when import condition_to_enable_when
from intake.selectors import (
    fhir_bundle,
    fhir_json,
    questionnaire_fhir,
    questionnaire_fhir_versions,
    questionnaire_response_fhir,
)
from intake.services import questionnaire_import, questionnaire_response_create
from tests.intake.conftest import FIXTURES, MADE_UP

LHC_STYLE = FIXTURES / "fhir" / "lhc_style_back_review.json"
# Every version in the repository (a new definition file is covered without touching this test), and the
# made-up scored instrument of the tests.
DEFINITIONS = [*definitions_registry().all(), definition_load(MADE_UP)]
# Written out here rather than read from intake.fhir.codes, so that a change to the mapping fails this test.
FHIR_TYPE_OF = {
    "boolean": {AnswerType.YES_NO},
    "choice": {AnswerType.SINGLE_CHOICE, AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA},
    "integer": {AnswerType.SCALE, AnswerType.INTEGER},
    "text": {AnswerType.TEXT},
}
FHIR_TYPES = {answer_type: fhir for fhir, answer_types in FHIR_TYPE_OF.items() for answer_type in answer_types}


def questionnaire_items(resource: dict) -> dict[str, dict]:
    """Every item of an exported Questionnaire (as JSON) by linkId, at any depth."""
    found = {}
    pending = list(resource.get("item", []))
    while pending:
        item = pending.pop(0)
        found[item["linkId"]] = item
        pending.extend(item.get("item", []))
    return found


def some_answers(definition) -> dict:
    """An answer to every question, of the right type (hidden ones are dropped when stored)."""
    answers = {}
    for question in definition.questions:
        if question.type is AnswerType.YES_NO:
            answers[question.id] = False
        elif question.type in (AnswerType.SCALE, AnswerType.INTEGER):
            answers[question.id] = question.max_value
        elif question.type is AnswerType.SINGLE_CHOICE:
            answers[question.id] = question.choices[-1].value
        elif question.type in (AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA):
            answers[question.id] = [choice.value for choice in question.choices[:2]]
        else:
            answers[question.id] = "Gardening"
    return answers


# Export of definitions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", DEFINITIONS, ids=str)
def test_every_definition_version_exports_as_a_valid_questionnaire(definition):
    text = fhir_json(resource=questionnaire_to_fhir(definition))
    Questionnaire.model_validate_json(text)
    resource = json.loads(text)
    assert resource["url"].endswith(f"/fhir/Questionnaire/{definition.slug}")
    assert resource["version"] == str(definition.version)
    assert (resource["status"], resource["title"]) == ("active", definition.title)
    assert [item["linkId"] for item in resource["item"]] == [step.id for step in definition.steps]
    assert {item["type"] for item in resource["item"]} == {"group"}
    items = questionnaire_items(resource)
    assert len(items) == text.count('"linkId"'), "every linkId is unique in the Questionnaire"
    for question in definition.questions:
        item = items[question.id]
        assert (item["text"], item["type"], item["required"]) == (
            question.text,
            FHIR_TYPES[question.type],
            question.required,
        )
        codes = [option["valueCoding"]["code"] for option in item.get("answerOption", [])]
        assert codes == list(question.choice_values)
        assert item.get("repeats", False) is (question.type in (AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA))


@pytest.mark.parametrize("definition", DEFINITIONS, ids=str)
def test_every_definition_round_trips_through_a_questionnaire(definition):
    found = questionnaire_from_fhir(resource_json(questionnaire_to_fhir(definition)), version=definition.version)
    assert found.problems == ()
    back = definition_from_dict(found.definition)
    assert (back.slug, back.version, back.title, back.intro) == (
        definition.slug,
        definition.version,
        definition.title,
        definition.intro,
    )
    # Questions with their types, options, bounds, required flags and show-if conditions; steps and their titles.
    assert back.steps == definition.steps


def test_current_version_is_exported_unless_one_is_named(back_pain):
    assert questionnaire_fhir(slug="back-pain").version == str(back_pain.version)
    assert questionnaire_fhir(slug="back-pain", version=1).version == "1"


def test_show_if_becomes_enable_when(back_pain):
    items = questionnaire_items(json.loads(fhir_json(resource=questionnaire_fhir(slug="back-pain"))))
    assert items["injury_details"]["enableWhen"] == [
        {
            "question": "onset",
            "operator": "=",
            "answerCoding": {"code": "injury", "display": "After an injury, a fall or a knock"},
        }
    ]
    assert "enableBehavior" not in items["injury_details"]
    assert items["eases_other"]["enableWhen"][0]["question"] == "eases"
    assert items["eases"]["repeats"] is True


def test_scale_is_a_slider_integer_with_standard_bounds(back_pain):
    items = questionnaire_items(json.loads(fhir_json(resource=questionnaire_fhir(slug="back-pain"))))
    extensions = {ext["url"]: ext for ext in items["pain_now"]["extension"]}
    assert extensions["http://hl7.org/fhir/StructureDefinition/minValue"]["valueInteger"] == 0
    assert extensions["http://hl7.org/fhir/StructureDefinition/maxValue"]["valueInteger"] == 10
    control = extensions["http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"]
    assert control["valueCodeableConcept"]["coding"][0]["code"] == "slider"


QUESTIONS = {
    "onset": AnswerType.SINGLE_CHOICE,
    "age": AnswerType.INTEGER,
    "tried": AnswerType.MULTI_CHOICE,
    "fever": AnswerType.YES_NO,
}


@pytest.mark.parametrize(
    ("condition", "behavior", "entries"),
    [
        (Leaf("question", "fever", "equals", True), None, [("fever", "=", "answerBoolean", True)]),
        (Leaf("question", "age", "gte", 50), None, [("age", ">=", "answerInteger", 50)]),
        (Leaf("question", "age", "answered", False), None, [("age", "exists", "answerBoolean", False)]),
        (
            Leaf("question", "onset", "in", ("injury", "gradual")),
            "any",
            [("onset", "=", "answerCoding", "injury"), ("onset", "=", "answerCoding", "gradual")],
        ),
        (Leaf("question", "tried", "contains", "heat"), None, [("tried", "=", "answerCoding", "heat")]),
        (
            AllOf((Leaf("question", "age", "gt", 50), Leaf("question", "fever", "equals", True))),
            "all",
            [("age", ">", "answerInteger", 50), ("fever", "=", "answerBoolean", True)],
        ),
        (Not(Leaf("question", "fever", "equals", True)), None, None),
        (
            AnyOf((AllOf((Leaf("question", "age", "gt", 50), Leaf("question", "fever", "equals", True))),)),
            None,
            None,
        ),
    ],
    ids=["equals", "gte", "unanswered", "in", "contains", "all", "not", "any-of-all"],
)
def test_conditions_as_enable_when(condition, behavior, entries):
    questions = {
        qid: Question(
            id=qid,
            type=qtype,
            text=qid,
            step_id="s",
            choices=(Choice("injury", "I"), Choice("gradual", "G"), Choice("heat", "H")),
        )
        for qid, qtype in QUESTIONS.items()
    }
    found = condition_to_enable_when(condition, questions)
    if entries is None:
        assert found is None
        return
    got_behavior, got = found
    assert got_behavior == behavior
    simple = []
    for entry in got:
        key = next(k for k in ("answerBoolean", "answerInteger", "answerCoding") if getattr(entry, k) is not None)
        value = getattr(entry, key)
        simple.append((entry.question, entry.operator, key, value.code if key == "answerCoding" else value))
    assert simple == entries


def test_a_condition_enable_when_cannot_say_is_kept_in_our_extension_and_survives_the_round_trip(back_pain):
    raw = {
        "slug": "odd-conditions",
        "version": 1,
        "title": "Odd conditions",
        "steps": [
            {
                "id": "only",
                "title": "Only",
                "questions": [
                    {"id": "age", "type": "integer", "text": "Age?", "min": 0, "max": 120},
                    {"id": "fever", "type": "yes_no", "text": "Fever?"},
                    {
                        "id": "why",
                        "type": "text",
                        "text": "Why?",
                        "max_length": 100,
                        "required": False,
                        "show_if": {"not": {"question": "fever", "equals": True}},
                    },
                ],
            }
        ],
    }
    definition = definition_from_dict(raw)
    resource = json.loads(resource_json(questionnaire_to_fhir(definition)))
    why = questionnaire_items(resource)["why"]
    assert "enableWhen" not in why
    assert [ext["valueString"] for ext in why["extension"]] == ['{"not": {"question": "fever", "equals": true}}']
    back = definition_from_dict(questionnaire_from_fhir(json.dumps(resource), version=1).definition)
    assert back.steps == definition.steps


# Export of answer sets --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("definition", DEFINITIONS, ids=str)
def test_every_definition_version_exports_answers_as_a_valid_questionnaire_response(definition, settings):
    settings.INTAKE_DEFINITION_DIRS = [DEFINITIONS_DIR, MADE_UP.parent.parent]
    stored = questionnaire_response_create(definition=definition, answers=some_answers(definition))
    text = fhir_json(resource=questionnaire_response_fhir(response=stored, reference="CB-TEST1"))
    QuestionnaireResponse.model_validate_json(text)
    resource = json.loads(text)
    assert resource["questionnaire"].endswith(f"/fhir/Questionnaire/{definition.slug}|{definition.version}")
    assert resource["status"] == "completed"
    assert resource["identifier"]["value"] == "CB-TEST1"
    assert resource["authored"] == stored.created_at.isoformat().replace("+00:00", "Z")
    assert "subject" not in resource
    stored_answers = {answer.question_id: answer.value for answer in stored.answers.all()}
    items = questionnaire_items(resource)
    for question_id, value in stored_answers.items():
        answers = items[question_id]["answer"]
        values = [next(v for k, v in answer.items() if k.startswith("value")) for answer in answers]
        values = [v["code"] if isinstance(v, dict) else v for v in values]
        assert values == (value if isinstance(value, list) else [value])
    groups = {item["linkId"] for item in resource["item"]}
    assert groups <= {step.id for step in definition.steps}


@pytest.mark.django_db
def test_an_unfinished_answer_set_is_in_progress_and_names_the_patient_only_when_asked(back_pain):
    stored = questionnaire_response_create(definition=back_pain, answers={"saddle_numbness": True}, complete=False)
    anonymous = json.loads(fhir_json(resource=questionnaire_response_fhir(response=stored, reference="CB-TEST2")))
    named = json.loads(
        fhir_json(
            resource=questionnaire_response_fhir(response=stored, reference="CB-TEST2", subject_display="Ann Lee")
        )
    )
    assert anonymous["status"] == "in-progress"
    assert "subject" not in anonymous
    assert named["subject"] == {"display": "Ann Lee"}
    assert anonymous["item"] == [
        {
            "linkId": "safety",
            "text": back_pain.steps[0].title,
            "item": [
                {
                    "linkId": "saddle_numbness",
                    "text": back_pain.question("saddle_numbness").text,
                    "answer": [{"valueBoolean": True}],
                }
            ],
        }
    ]
    bundle = fhir_json(resource=fhir_bundle(resources=[questionnaire_response_fhir(response=stored, reference="CB-X")]))
    assert Bundle.model_validate_json(bundle).type == "collection"


@pytest.mark.django_db
def test_a_later_answer_set_of_a_request_has_its_own_id_and_identifier_and_bundle_entries_unique_full_urls(back_pain):
    stored = questionnaire_response_create(definition=back_pain, answers={"saddle_numbness": False}, complete=False)
    first = questionnaire_response_fhir(response=stored, reference="CB-7KQ2M")
    later = questionnaire_response_fhir(response=stored, reference="CB-7KQ2M", part="follow-up-6w")
    assert (first.id, first.identifier.value) == ("CB-7KQ2M", "CB-7KQ2M")
    assert (later.id, later.identifier.value) == ("CB-7KQ2M-follow-up-6w", "CB-7KQ2M/follow-up-6w")
    assert first.identifier.system.endswith("/fhir/request-reference")
    assert later.identifier.system.endswith("/fhir/request-answer-set")
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", later.id)
    # The same resource twice still gets two fullUrls: FHIR wants them unique in a Bundle.
    bundle = Bundle.model_validate_json(fhir_json(resource=fhir_bundle(resources=[first, later, later])))
    full_urls = [entry.fullUrl for entry in bundle.entry]
    assert len(set(full_urls)) == 3
    assert all(
        re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", u) for u in full_urls
    )
    assert [QuestionnaireResponse.model_validate(e.resource.model_dump()).id for e in bundle.entry][:2] == [
        "CB-7KQ2M",
        "CB-7KQ2M-follow-up-6w",
    ]


@pytest.mark.parametrize("slug", definitions_registry().slugs)
def test_every_version_of_a_definition_exports_oldest_first(slug):
    resources = questionnaire_fhir_versions(slug=slug)
    assert [resource.version for resource in resources] == [str(v) for v in definitions_registry().versions(slug)]
    for resource in resources:
        Questionnaire.model_validate_json(resource_json(resource))
    assert len({resource.id for resource in resources}) == len(resources)


def test_every_version_of_an_unknown_definition_is_not_found():
    with pytest.raises(DefinitionNotFound, match="no questionnaire definition 'neck-pain'"):
        questionnaire_fhir_versions(slug="neck-pain")


# Import -------------------------------------------------------------------------------------------------------

LHC_PROBLEMS = [
    "item '/about/clinic': initial: a pre-filled answer has no equivalent",
    "item '/about/contact': a group inside the group '/about'; steps hold questions only",
    "item '/about/referrer': enableWhen on '/pain/score': no question before this item has that linkId"
    " (a condition may only look back)",
    "item '/pain/started': type 'date' has no equivalent (there is no date answer)",
    "item '/pain/scan': type 'attachment' has no equivalent (there is no file upload)",
    "item '/pain/lifting_weight': enableWhen on '/pain/triggers': operator '!=' on a question with several answers"
    " has no equivalent",
    "item '/pain/other_treatment': type 'open-choice' has no equivalent (a choice here cannot also take free text)",
]
INEXPRESSIBLE = {
    "/about/clinic",
    "/about/contact",
    "/about/referrer",
    "/pain/started",
    "/pain/scan",
    "/pain/lifting_weight",
    "/pain/other_treatment",
}


def lhc_style(without=()) -> dict:
    raw = json.loads(LHC_STYLE.read_text())
    for group in raw["item"]:
        group["item"] = [item for item in group["item"] if item["linkId"] not in without]
    return raw


def test_import_explains_exactly_what_cannot_be_expressed_and_keeps_nothing():
    found = questionnaire_from_fhir(LHC_STYLE.read_text(), version=1)
    assert found.definition is None
    assert list(found.problems) == LHC_PROBLEMS


def test_import_of_the_expressible_part_gives_a_definition_the_engine_loads():
    found = questionnaire_from_fhir(lhc_style(without=INEXPRESSIBLE), version=1)
    assert found.problems == ()
    definition = definition_from_dict(found.definition)
    assert (definition.slug, definition.title) == ("back-review-lhc", "Back review before your visit")
    assert [(step.id, step.title) for step in definition.steps] == [
        ("about", "About your visit"),
        ("pain", "Your pain"),
    ]
    questions = {question.id: question for question in definition.questions}
    assert [(q.id, q.type, q.required) for q in definition.questions] == [
        ("about_reason", AnswerType.TEXT, True),
        ("about_first_visit", AnswerType.YES_NO, True),
        ("about_sessions", AnswerType.INTEGER, False),
        ("pain_score", AnswerType.SCALE, True),
        ("pain_pattern", AnswerType.SINGLE_CHOICE, True),
        ("pain_constant_since", AnswerType.TEXT, False),
        ("pain_triggers", AnswerType.MULTI_CHOICE, False),
    ]
    assert (questions["about_sessions"].min_value, questions["about_sessions"].max_value) == (0, 50)
    assert questions["about_reason"].max_length == 200
    assert questions["pain_score"].help == "0 is no pain at all, 10 the worst you can picture."
    assert questions["pain_pattern"].choices == (
        Choice("la_const", "All the time"),
        Choice("la_comes", "It comes and goes"),
    )
    assert questions["pain_triggers"].choice_values == ("sitting", "lifting")
    assert questions["pain_constant_since"].show_if == Leaf("question", "pain_pattern", "equals", "la_const")
    assert (
        "item '/pain/pattern': answer codes stored as 'LA-CONST' as 'la_const', 'LA-COMES' as 'la_comes'" in found.notes
    )
    assert "item '/pain/constant_since': no maxLength; answers may be 5000 characters long" in found.notes


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            "{not json",
            "the file is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        (
            '{"resourceType": "Patient"}',
            "the file is not a FHIR Questionnaire (its resourceType must be 'Questionnaire')",
        ),
        ("[1, 2]", "the file is not a FHIR Questionnaire (its resourceType must be 'Questionnaire')"),
    ],
)
def test_import_of_something_else_is_refused_with_a_reason(data, problem):
    assert questionnaire_from_fhir(data, version=1).problems == (problem,)


def test_import_reports_an_invalid_fhir_structure():
    raw = lhc_style(without=INEXPRESSIBLE)
    raw["item"][0]["item"][0]["required"] = "very"
    (problem,) = questionnaire_from_fhir(json.dumps(raw), version=1).problems
    assert problem.startswith("not a valid R4 Questionnaire at item.0.item.0.required")


def test_import_of_an_item_type_fhir_does_not_have_is_explained():
    raw = lhc_style(without=INEXPRESSIBLE)
    raw["item"][0]["item"][0]["type"] = "signature"
    assert questionnaire_from_fhir(json.dumps(raw), version=1).problems == (
        "item '/about/reason': type 'signature' has no equivalent (it is not an R4 item type)",
    )


def test_import_of_a_choice_condition_on_an_unknown_answer_is_explained():
    raw = lhc_style(without=INEXPRESSIBLE)
    raw["item"][1]["item"][2]["enableWhen"][0]["answerCoding"]["code"] = "LA-NEVER"
    assert questionnaire_from_fhir(json.dumps(raw), version=1).problems == (
        "item '/pain/constant_since': enableWhen on '/pain/pattern': the answer 'LA-NEVER' is not one of the"
        " question's options",
    )


# The import command -------------------------------------------------------------------------------------------


@pytest.fixture
def definitions_dir(settings, tmp_path):
    settings.INTAKE_DEFINITION_DIRS = [DEFINITIONS_DIR, tmp_path]
    return tmp_path


def test_import_command_writes_the_next_version_which_the_registry_then_loads(definitions_dir, tmp_path, capsys):
    source = tmp_path / "review.json"
    source.write_text(json.dumps(lhc_style(without=INEXPRESSIBLE)))
    call_command("fhir_import", str(source), "--slug", "back-review", "--directory", str(definitions_dir))
    written = definitions_dir / "back-review" / "v1.yaml"
    assert f"Wrote {written}" in capsys.readouterr().out
    assert definitions_registry().current("back-review").question("pain_score").type is AnswerType.SCALE
    call_command("fhir_import", str(source), "--slug", "back-review", "--directory", str(definitions_dir))
    assert (definitions_dir / "back-review" / "v2.yaml").exists()


def test_import_command_dry_run_shows_the_file_and_writes_nothing(definitions_dir, tmp_path, capsys):
    source = tmp_path / "review.json"
    source.write_text(json.dumps(lhc_style(without=INEXPRESSIBLE)))
    call_command("fhir_import", str(source), "--dry-run", "--directory", str(definitions_dir))
    out = capsys.readouterr().out
    assert out.startswith(
        "# Imported from the FHIR Questionnaire http://forms.example.test/Questionnaire/back-review|0.3"
    )
    assert "slug: back-review-lhc" in out
    assert not (definitions_dir / "back-review-lhc").exists()


def test_import_command_lists_what_cannot_be_imported_and_writes_nothing(definitions_dir):
    with pytest.raises(CommandError) as refused:
        call_command("fhir_import", str(LHC_STYLE), "--directory", str(definitions_dir))
    assert str(refused.value) == "\n".join(
        [f"{LHC_STYLE} cannot be imported; nothing was written:", *(f"  - {p}" for p in LHC_PROBLEMS)]
    )
    assert list(Path(definitions_dir).iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read (No such file or directory)"),
        ("\x00\xff", "the file is not JSON"),
    ],
)
def test_import_command_bad_input_is_a_message_not_a_traceback(definitions_dir, tmp_path, content, message):
    source = tmp_path / "given.json"
    if content is not None:
        source.write_text(content, encoding="latin-1")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("fhir_import", str(source), "--directory", str(definitions_dir))


def test_import_service_never_replaces_an_existing_file(definitions_dir, monkeypatch):
    data = json.dumps(lhc_style(without=INEXPRESSIBLE))
    first = questionnaire_import(data=data, directory=definitions_dir)
    # Another process wrote the same version meanwhile: the registry has not seen it yet.
    monkeypatch.setattr(
        "intake.services.definitions_registry", lambda: type("R", (), {"versions": lambda self, slug: []})()
    )
    with pytest.raises(FileExistsError):
        questionnaire_import(data=data, directory=definitions_dir)
    assert first.path.read_text() == first.text


# Hostile Questionnaires (security review 27, finding 2 and the deep-nesting note) --------------------------------

INJECTED_RULES = "0.3\nrules:\n  - when: {question: about_reason, equals: x}\n    tier: emergency"


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        (("version",), INJECTED_RULES, "the field version holds a line break (U+000A)"),
        (("url",), "http://forms.example.test/Q\r\nrules: []", "the field url holds a line break (U+000D)"),
        (("version",), "0.3\u2028rules: []", "the field version holds a line break (U+2028)"),
        (("title",), "Back review\x1b[2J", "the field title holds a control character (U+001B)"),
        (("title",), "Back\x85review", "the field title holds a line break (U+0085)"),
        (("item", 0, "item", 0, "text"), "Why\u202e come?", "the field item.0.item.0.text holds a control"),
        (("item", 0, "item", 0, "linkId"), "/about/reason\n", "the field item.0.item.0.linkId holds a line break"),
        (("description",), "Fine\x00", "the field description holds a control character (U+0000)"),
    ],
)
def test_import_refuses_control_characters_in_any_string_naming_the_field_and_writes_nothing(
    definitions_dir, where, value, problem
):
    raw = lhc_style(without=INEXPRESSIBLE)
    target = raw
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    imported = questionnaire_import(data=json.dumps(raw), slug="back-review", directory=definitions_dir)
    assert not imported.written
    assert any(found.startswith(problem) for found in imported.problems), imported.problems
    assert list(Path(definitions_dir).iterdir()) == []


def test_import_command_refuses_a_version_that_would_inject_rules(definitions_dir, tmp_path):
    raw = lhc_style(without=INEXPRESSIBLE)
    raw["version"] = INJECTED_RULES
    source = tmp_path / "review.json"
    source.write_text(json.dumps(raw))
    with pytest.raises(CommandError, match=r"the field version holds a line break \(U\+000A\)"):
        call_command("fhir_import", str(source), "--slug", "back-review", "--directory", str(definitions_dir))
    assert list(Path(definitions_dir).iterdir()) == [source]


def test_a_multi_line_description_is_kept_exactly_through_the_serializer(definitions_dir):
    raw = lhc_style(without=INEXPRESSIBLE)
    raw["description"] = "Two lines:\nrules: [] is just text here\n# and so is this"
    imported = questionnaire_import(data=json.dumps(raw), slug="back-review", directory=definitions_dir)
    assert imported.written
    written = yaml.safe_load(imported.path.read_text())
    assert written["intro"] == raw["description"] and "rules" not in written
    assert definitions_registry().current("back-review").title == "Back review before your visit"


def test_import_refuses_a_file_whose_text_does_not_load_back_as_the_definition(definitions_dir, monkeypatch):
    import intake.services

    real = intake.services.definition_yaml
    monkeypatch.setattr(intake.services, "definition_yaml", lambda *a, **k: real(*a, **k) + "rules: []\n")
    imported = questionnaire_import(
        data=json.dumps(lhc_style(without=INEXPRESSIBLE)), slug="back-review", directory=definitions_dir
    )
    assert not imported.written
    assert imported.problems == (
        "the definition file's text does not read back as the definition imported (nothing was written)",
    )
    assert list(Path(definitions_dir).iterdir()) == []


@pytest.mark.parametrize("shape", ["array", "object", "items"])
def test_deeply_nested_json_is_a_clear_refusal_not_a_recursion_error(shape):
    if shape == "array":
        data = "[" * 100_000 + "]" * 100_000
    elif shape == "object":
        data = '{"resourceType": "Questionnaire", "x": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"
    else:
        item = {"linkId": "q", "type": "string", "text": "Deep"}
        for _ in range(3_000):
            item = {"linkId": "g", "type": "group", "text": "Group", "item": [item]}
        data = {"resourceType": "Questionnaire", "status": "draft", "title": "Deep", "item": [item]}
    found = questionnaire_from_fhir(data, version=1)
    assert found.definition is None
    assert found.problems == ("the file nests more than 64 levels deep; a Questionnaire never needs that many",)
