"""Patients' questionnaire answers as FHIR: the admin action, the service and the command, all privacy-logged,
with the request's reference as the identifier and the patient's name only when asked for."""

import os
import re
import stat

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from callbacks.models import PrivacyLogEntry, RequestEvent
from callbacks.privacy.services import callback_requests_fhir_export
from intake.definitions import definition_current
from intake.services import questionnaire_response_create
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:callbacks_callbackrequest_changelist")
NAME = "Olwen Pryce"


def answered_request(reference: str, name: str = NAME):
    response = questionnaire_response_create(
        definition=definition_current("back-pain"),
        answers={"saddle_numbness": False, "fever": True, "pain_areas": ["lower_back_centre"]},
        complete=False,
    )
    return CallbackRequestFactory(reference=reference, name=name, questionnaire_response=response)


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
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "collection"
    assert sorted(entry.resource.identifier.value for entry in bundle.entry) == ["CB-FHIR1", "CB-FHIR2"]
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
    bundle = Bundle.model_validate_json(output.read_text())
    assert sorted(entry.resource.subject.display for entry in bundle.entry) == ["Bryn Hale", NAME]
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o600
    assert sorted(exports()) == ["CB-FHIR1", "CB-FHIR2"]


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
