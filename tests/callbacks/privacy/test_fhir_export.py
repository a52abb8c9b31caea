"""Patients' questionnaire answers as FHIR: the admin action, the service and the command, all privacy-logged,
with the request's reference as the identifier (and ``/follow-up-<weeks>w`` for a follow-up's answers) and the
patient's name only when asked for."""

import json
import os
import re
import stat

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from callbacks.models import FollowUp, PrivacyLogEntry, RequestEvent
from callbacks.privacy.services import callback_requests_fhir_export
from intake.definitions import definition_current, definitions_registry
from intake.services import questionnaire_response_create
from tests.factories import CallbackRequestFactory, FollowUpFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:callbacks_callbackrequest_changelist")
NAME = "Olwen Pryce"
SCREENING = ["saddle_numbness", "urine_trouble", "bladder_bowel_control", "both_legs", "leg_weakening"]
SCREENING += ["serious_fall", "chest_pain", "fever", "weight_loss", "back_lump", "rest_night_pain"]
FOLLOW_UP_ANSWERS = {
    **dict.fromkeys(SCREENING, False),
    "pain_now": 3,
    "pain_worst_week": 5,
    "psfs_activity_1": "Gardening",
    "psfs_rating_1": 6,
}
# FHIR's pattern for a resource id.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def answered_request(reference: str, name: str = NAME):
    response = questionnaire_response_create(
        definition=definition_current("back-pain"),
        answers={"saddle_numbness": False, "fever": True, "pain_areas": ["lower_back_centre"]},
        complete=False,
    )
    return CallbackRequestFactory(reference=reference, name=name, questionnaire_response=response)


def answered_follow_up(request, weeks: int) -> FollowUp:
    """An outcome follow-up of ``request`` answered through its link (an outcomes/v1 answer set)."""
    response = questionnaire_response_create(definition=definition_current("outcomes"), answers=FOLLOW_UP_ANSWERS)
    return FollowUpFactory(
        request=request,
        weeks=weeks,
        status=FollowUp.Status.ANSWERED,
        answered_at=timezone.now(),
        questionnaire_response=response,
    )


def resources_of(content) -> list[QuestionnaireResponse]:
    """Every QuestionnaireResponse in an export, each parsed back with the R4B models (a Bundle's entries are
    validated as their own resource type, and their fullUrls must be distinct urn:uuids)."""
    if json.loads(content)["resourceType"] == "Bundle":
        bundle = Bundle.model_validate_json(content)
        full_urls = [entry.fullUrl for entry in bundle.entry]
        assert len(set(full_urls)) == len(full_urls)
        assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", url) for url in full_urls)
        resources = [QuestionnaireResponse.model_validate(entry.resource.model_dump()) for entry in bundle.entry]
    else:
        resources = [QuestionnaireResponse.model_validate_json(content)]
    assert all(FHIR_ID.fullmatch(resource.id) for resource in resources)
    assert len({resource.id for resource in resources}) == len(resources)
    assert len({resource.identifier.value for resource in resources}) == len(resources)
    return resources


@pytest.fixture
def triage_user():
    user = UserFactory(username="frontdesk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def exporter(triage_user):
    triage_user.user_permissions.add(Permission.objects.get(codename="export_patient_data"))
    return triage_user


def exports():
    return list(
        PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.EXPORTED).values_list("reference", flat=True)
    )


def action(user, *requests):
    client = Client()
    client.force_login(user)
    return client.post(QUEUE, {"action": "export_fhir", "_selected_action": [r.pk for r in requests]}, follow=True)


# The admin action ----------------------------------------------------------------------------------------------


def test_action_is_refused_without_the_export_permission(triage_user):
    request = answered_request("CB-FHIR1")
    page = Client()
    page.force_login(triage_user)
    assert "Export questionnaire answers as FHIR" not in page.get(QUEUE).content.decode()
    response = action(triage_user, request)
    assert "Content-Disposition" not in response
    assert "No action selected." in response.content.decode()
    assert exports() == []


def test_action_downloads_one_questionnaire_response_without_the_name_and_logs_it(exporter):
    request = answered_request("CB-FHIR1")
    response = action(exporter, request)
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="questionnaire-answers-CB-FHIR1.json"'
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    resource = QuestionnaireResponse.model_validate_json(content)
    assert resource.identifier.value == "CB-FHIR1"
    assert resource.subject is None
    assert NAME not in content and "Olwen" not in content
    assert exports() == ["CB-FHIR1"]
    event = RequestEvent.objects.get(request=request, action=RequestEvent.Action.EXPORTED)
    assert (event.actor, event.after) == (exporter, "FHIR QuestionnaireResponse (JSON)")


def test_action_on_several_requests_downloads_a_bundle_and_names_those_without_answers(exporter):
    first, second = answered_request("CB-FHIR1"), answered_request("CB-FHIR2", name="Bryn Hale")
    bare = CallbackRequestFactory(reference="CB-BARE1")
    response = action(exporter, first, second, bare)
    assert Bundle.model_validate_json(response.content).type == "collection"
    assert sorted(resource.identifier.value for resource in resources_of(response.content)) == ["CB-FHIR1", "CB-FHIR2"]
    assert response["Content-Disposition"] == 'attachment; filename="questionnaire-answers-2-requests.json"'
    assert sorted(exports()) == ["CB-FHIR1", "CB-FHIR2"]
    queue = action(exporter, bare)
    assert "No questionnaire answers to export for CB-BARE1." in queue.content.decode()
    assert "CB-BARE1" not in exports()


# The service ---------------------------------------------------------------------------------------------------


def test_service_names_the_patient_only_when_asked(exporter):
    request = answered_request("CB-FHIR1")
    plain = callback_requests_fhir_export(requests=[request], actor=exporter)
    named = callback_requests_fhir_export(requests=[request], actor=exporter, with_names=True)
    assert NAME not in plain.content.decode()
    assert QuestionnaireResponse.model_validate_json(named.content).subject.display == NAME
    assert exports() == ["CB-FHIR1", "CB-FHIR1"]


def test_service_logs_no_answer_or_name(exporter, caplog):
    caplog.set_level("INFO")
    callback_requests_fhir_export(requests=[answered_request("CB-FHIR1")], actor=exporter, with_names=True)
    assert "exported as FHIR" in caplog.text
    assert NAME not in caplog.text and "lower_back" not in caplog.text


# The command ---------------------------------------------------------------------------------------------------


def test_command_exports_a_questionnaire_to_stdout(capsys):
    call_command("fhir_export", "questionnaire", "back-pain", "--version", "1")
    resource = Questionnaire.model_validate_json(capsys.readouterr().out)
    assert resource.version == "1"


def test_command_exports_questionnaires_as_a_bundle(capsys):
    call_command("fhir_export", "questionnaire", "back-pain", "--bundle")
    assert Bundle.model_validate_json(capsys.readouterr().out).entry[0].resource.name == "BackPain"


def test_command_unknown_questionnaire_is_a_message():
    with pytest.raises(CommandError, match="no questionnaire definition 'neck-pain'"):
        call_command("fhir_export", "questionnaire", "neck-pain")


def test_command_exports_one_response_by_reference_and_logs_it(exporter, capsys):
    answered_request("CB-FHIR1")
    call_command("fhir_export", "response", "cb-fhir1", "--by", "frontdesk")
    content = capsys.readouterr().out
    assert QuestionnaireResponse.model_validate_json(content).identifier.value == "CB-FHIR1"
    assert NAME not in content
    assert exports() == ["CB-FHIR1"]


def test_command_exports_all_as_a_bundle_to_a_private_file(exporter, tmp_path):
    answered_request("CB-FHIR1")
    answered_request("CB-FHIR2", name="Bryn Hale")
    CallbackRequestFactory(reference="CB-BARE1")
    output = tmp_path / "answers.json"
    call_command("fhir_export", "response", "--all", "--with-names", "--by", "frontdesk", "--output", str(output))
    assert sorted(resource.subject.display for resource in resources_of(output.read_text())) == ["Bryn Hale", NAME]
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o600
    assert sorted(exports()) == ["CB-FHIR1", "CB-FHIR2"]


@pytest.mark.parametrize("existing", ["file", "symlink", "dangling symlink"])
def test_command_never_writes_through_an_existing_file_or_link(exporter, tmp_path, existing):
    """Security review 27, finding 10: --output kept an existing file's permissions and followed symlinks."""
    answered_request("CB-FHIR1")
    elsewhere = tmp_path / "elsewhere.txt"
    output = tmp_path / "answers.json"
    if existing == "file":
        output.write_text("kept")
        output.chmod(0o644)
    else:
        if existing == "symlink":
            elsewhere.write_text("kept")
        output.symlink_to(elsewhere)
    with pytest.raises(CommandError, match="exists already; nothing written"):
        call_command("fhir_export", "response", "CB-FHIR1", "--by", "frontdesk", "--output", str(output))
    if existing == "file":
        assert output.read_text() == "kept" and stat.S_IMODE(os.stat(output).st_mode) == 0o644
    else:
        assert output.is_symlink()
        assert elsewhere.read_text() == "kept" if existing == "symlink" else not elsewhere.exists()
    assert exports() == []  # nothing exported, so nothing logged as exported


@pytest.mark.parametrize("existing", ["file", "symlink"])
def test_command_overwrite_replaces_the_file_or_link_itself_with_a_private_file(exporter, tmp_path, existing):
    answered_request("CB-FHIR1")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("kept")
    elsewhere.chmod(0o644)
    output = tmp_path / "answers.json"
    if existing == "file":
        output.write_text("old")
        output.chmod(0o644)
    else:
        output.symlink_to(elsewhere)
    arguments = ["response", "CB-FHIR1", "--by", "frontdesk", "--output", str(output), "--overwrite"]
    call_command("fhir_export", *arguments)
    assert not output.is_symlink() and stat.S_IMODE(os.stat(output).st_mode) == 0o600
    assert QuestionnaireResponse.model_validate_json(output.read_text()).identifier.value == "CB-FHIR1"
    assert elsewhere.read_text() == "kept" and stat.S_IMODE(os.stat(elsewhere).st_mode) == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["answers.json", "elsewhere.txt"]


def test_command_leaves_no_file_when_the_export_is_refused(exporter, tmp_path):
    output = tmp_path / "answers.json"
    with pytest.raises(CommandError, match="no request with the reference CB-NONE1"):
        call_command("fhir_export", "response", "CB-NONE1", "--by", "frontdesk", "--output", str(output))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["CB-NONE1", "--by", "frontdesk"], "no request with the reference CB-NONE1"),
        (["CB-BARE1", "--by", "frontdesk"], "no questionnaire answers for CB-BARE1; nothing exported"),
        (["--by", "frontdesk"], "name the requests' references, or --all (not both)"),
        (["CB-FHIR1", "--by", "nobody"], "--by: 'nobody' is not an active account allowed to export patient data"),
    ],
)
def test_command_refusals_are_messages_and_log_nothing(exporter, arguments, message):
    answered_request("CB-FHIR1")
    CallbackRequestFactory(reference="CB-BARE1")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("fhir_export", "response", *arguments)
    assert exports() == []


def test_command_refuses_an_account_without_the_export_permission(triage_user):
    answered_request("CB-FHIR1")
    with pytest.raises(CommandError, match="not an active account allowed to export patient data"):
        call_command("fhir_export", "response", "CB-FHIR1", "--by", "frontdesk")
    assert exports() == []


# Follow-ups' answer sets -------------------------------------------------------------------------------------


def test_action_exports_the_follow_ups_answers_with_their_version_and_their_own_ids_and_logs_the_request_once(
    exporter,
):
    request = answered_request("CB-FHIR1")
    answered_follow_up(request, weeks=6)
    answered_follow_up(request, weeks=2)
    FollowUpFactory(request=request, weeks=12)  # sent, not answered: nothing to export
    response = action(exporter, request)
    assert response["Content-Disposition"] == 'attachment; filename="questionnaire-answers-CB-FHIR1.json"'
    resources = resources_of(response.content)
    assert [(r.id, r.identifier.value) for r in resources] == [
        ("CB-FHIR1", "CB-FHIR1"),
        ("CB-FHIR1-follow-up-2w", "CB-FHIR1/follow-up-2w"),
        ("CB-FHIR1-follow-up-6w", "CB-FHIR1/follow-up-6w"),
    ]
    assert [r.identifier.system.rsplit("/", 1)[1] for r in resources] == [
        "request-reference",
        "request-answer-set",
        "request-answer-set",
    ]
    assert [r.questionnaire.rsplit("/", 1)[1] for r in resources] == ["back-pain|3", "outcomes|1", "outcomes|1"]
    assert [r.status for r in resources] == ["in-progress", "completed", "completed"]
    assert all(r.subject is None for r in resources)
    assert NAME not in response.content.decode()
    assert exports() == ["CB-FHIR1"]
    assert RequestEvent.objects.filter(request=request, action=RequestEvent.Action.EXPORTED).count() == 1


def test_service_exports_a_request_with_only_follow_up_answers_and_names_the_patient_in_each_when_asked(exporter):
    request = CallbackRequestFactory(reference="CB-FHIR3", name=NAME)
    answered_follow_up(request, weeks=2)
    alone = callback_requests_fhir_export(requests=[request], actor=exporter)
    [resource] = resources_of(alone.content)
    assert resource.identifier.value == "CB-FHIR3/follow-up-2w"
    assert alone.references == ("CB-FHIR3",) and alone.without_answers == ()
    answered_follow_up(request, weeks=6)
    named = callback_requests_fhir_export(requests=[request], actor=exporter, with_names=True)
    assert [r.subject.display for r in resources_of(named.content)] == [NAME, NAME]
    assert exports() == ["CB-FHIR3", "CB-FHIR3"]


def test_command_all_includes_requests_with_only_follow_up_answers(exporter, capsys):
    answered_request("CB-FHIR1")
    answered_follow_up(CallbackRequestFactory(reference="CB-FHIR3"), weeks=2)
    CallbackRequestFactory(reference="CB-BARE1")
    FollowUpFactory(request=CallbackRequestFactory(reference="CB-BARE2"), weeks=2)  # sent, never answered
    call_command("fhir_export", "response", "--all", "--by", "frontdesk")
    resources = resources_of(capsys.readouterr().out)
    assert sorted(r.identifier.value for r in resources) == ["CB-FHIR1", "CB-FHIR3/follow-up-2w"]
    assert sorted(exports()) == ["CB-FHIR1", "CB-FHIR3"]


def test_command_exports_a_request_by_reference_whose_only_answers_are_a_follow_ups(exporter, capsys):
    answered_follow_up(CallbackRequestFactory(reference="CB-FHIR3"), weeks=6)
    call_command("fhir_export", "response", "CB-FHIR3", "--by", "frontdesk")
    [resource] = resources_of(capsys.readouterr().out)
    assert resource.questionnaire.endswith("/fhir/Questionnaire/outcomes|1")
    assert exports() == ["CB-FHIR3"]


# Every version of a definition -------------------------------------------------------------------------------


@pytest.mark.parametrize("slugs", [["back-pain"], ["back-pain", "outcomes"]])
def test_command_exports_every_version_of_a_definition_in_one_bundle(capsys, slugs):
    call_command("fhir_export", "questionnaire", *slugs, "--all-versions")
    bundle = Bundle.model_validate_json(capsys.readouterr().out)
    registry = definitions_registry()
    expected = [(slug, str(version)) for slug in slugs for version in registry.versions(slug)]
    assert [(e.resource.url.rsplit("/", 1)[1], e.resource.version) for e in bundle.entry] == expected
    assert all(isinstance(Questionnaire.model_validate(e.resource.model_dump()), Questionnaire) for e in bundle.entry)
    assert len({e.fullUrl for e in bundle.entry}) == len({e.resource.id for e in bundle.entry}) == len(expected)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["back-pain", "--all-versions", "--version", "1"], "--version and --all-versions do not go together"),
        (["neck-pain", "--all-versions"], "no questionnaire definition 'neck-pain'"),
    ],
)
def test_command_all_versions_refusals_are_messages(arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("fhir_export", "questionnaire", *arguments)
