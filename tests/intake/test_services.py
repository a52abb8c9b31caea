"""Storing responses: typed answer rows, queries over them, the staff summary and the read-only admin."""

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from intake.answers import AnswersInvalid
from intake.models import Answer, AnswerChoice, QuestionnaireResponse, ResponseRevision
from intake.selectors import (
    questionnaire_response_answers,
    questionnaire_response_staff_priority,
    questionnaire_response_summary,
)
from intake.services import (
    questionnaire_response_create,
    questionnaire_response_step_save,
    questionnaire_responses_delete,
)
from tests.intake.conftest import ROUTINE_ANSWERS

pytestmark = pytest.mark.django_db


def store(definition, **answers):
    return questionnaire_response_create(definition=definition, answers={**ROUTINE_ANSWERS, **answers})


def test_answers_are_stored_in_typed_columns_with_one_row_per_chosen_option(back_pain):
    response = store(back_pain, pain_areas=["buttock_right", "lower_back_left"], goals="  Run again  ")
    rows = {row.question_id: row for row in response.answers.all()}
    assert rows["saddle_numbness"].value_bool is False
    assert rows["age"].value_int == 34
    assert rows["pain_now"].value_int == 4
    assert rows["duration"].value_text == "under_1_week"
    assert rows["goals"].value_text == "Run again"
    # Chosen options in the definition's order, and one AnswerChoice row each.
    assert rows["pain_areas"].value_choices == ["lower_back_left", "buttock_right"]
    assert set(AnswerChoice.objects.filter(answer=rows["pain_areas"]).values_list("value", flat=True)) == {
        "lower_back_left",
        "buttock_right",
    }
    assert questionnaire_response_answers(response=response)["pain_areas"] == ["lower_back_left", "buttock_right"]
    assert (response.questionnaire, response.definition_version) == ("back-pain", back_pain.version)


def answered(question_id: str, **value):
    """Responses with an answer to ``question_id`` matching ``value`` (a typed column, or ``choices__value``)."""
    lookups = {f"answers__{column}": wanted for column, wanted in value.items()}
    return QuestionnaireResponse.objects.filter(answers__question_id=question_id, **lookups).distinct()


def test_typed_columns_let_plain_orm_queries_find_responses_by_answer(back_pain):
    """The typed columns exist so that staff reports can ask the database questions like these directly."""
    numb = store(back_pain, saddle_numbness=True)
    also_numb = store(back_pain, saddle_numbness=True, pain_areas=["groin"])
    store(back_pain)
    assert set(answered("saddle_numbness", value_bool=True)) == {numb, also_numb}
    assert list(answered("pain_areas", choices__value="groin")) == [also_numb]
    assert answered("age", value_int=34).count() == 3
    assert set(answered("duration", value_text="under_1_week")) == set(QuestionnaireResponse.objects.all())


def test_answers_to_hidden_follow_up_questions_are_dropped(back_pain):
    response = store(back_pain, takes_medicines=False, medicines="Should not be kept")
    assert not response.answers.filter(question_id="medicines").exists()


@pytest.mark.parametrize(
    ("answers", "question"),
    [
        ({"pain_now": 11}, "pain_now"),
        ({"age": "34"}, "age"),
        ({"fever": "yes"}, "fever"),
        ({"duration": "forever"}, "duration"),
        ({"pain_areas": ["elbow"]}, "pain_areas"),
        ({"goals": "x" * 501}, "goals"),
        ({"unknown_question": True}, "unknown_question"),
        ({"takes_medicines": True}, "medicines"),
    ],
)
def test_answers_that_do_not_fit_store_nothing(back_pain, answers, question):
    with pytest.raises(AnswersInvalid) as caught:
        store(back_pain, **answers)
    assert question in caught.value.message_dict
    assert (QuestionnaireResponse.objects.count(), Answer.objects.count(), AnswerChoice.objects.count()) == (0, 0, 0)


def test_an_incomplete_response_from_the_emergency_advice_can_be_stored(back_pain):
    screening = {question.id: False for question in back_pain.steps[0].questions} | {"both_legs": True}
    response = questionnaire_response_create(definition=back_pain, answers=screening, complete=False)
    assert (response.tier, response.is_complete, response.answers.count()) == ("emergency", False, 7)
    with pytest.raises(AnswersInvalid):
        questionnaire_response_create(definition=back_pain, answers=screening, complete=True)


def test_the_summary_puts_red_flags_first_with_their_reasons_and_sources(back_pain):
    response = store(back_pain, bladder_bowel_control=True, fever=True, age=61, history="first_time")
    summary = questionnaire_response_summary(response=response)
    assert summary.tier == "emergency"
    first = summary.lines[0]
    assert first.question_id == "bladder_bowel_control"
    assert first.answer_text == "Yes"
    assert first.question_text.startswith("Have you wet or soiled yourself")
    assert first.is_red_flag
    assert [line.question_id for line in summary.red_flags] == ["bladder_bowel_control", "fever"]
    [emergency, urgent, review] = summary.reason_lines
    assert emergency.source.startswith("NHS")
    assert emergency.answers == (
        "Have you wet or soiled yourself without meaning to, or lost control of your bladder or bowels? — Yes",
    )
    assert urgent.text.startswith("High temperature")
    assert review.answers[0] == "How old are you? — 61"
    lines = {line.question_id: line.answer_text for line in summary.lines}
    assert lines["pain_now"] == "4 out of 10"
    assert lines["pain_areas"] == "Lower back, middle"
    assert lines["duration"] == "Less than a week"


def test_the_summary_template_highlights_red_flags_and_names_sources(back_pain):
    response = store(back_pain, serious_fall=True)
    html = render_to_string(
        "intake/response_summary.html", {"summary": questionnaire_response_summary(response=response)}
    )
    assert "Red flag (Emergency):" in html
    assert "Back pain after a serious fall or accident (possible fracture)." in html
    assert "Rule source: NHS: Back pain \N{EN DASH} urgent advice" in html
    assert "Did your back pain start after a serious fall" in html
    assert "<script" not in html and "style=" not in html


def test_the_summary_of_a_routine_response_says_no_flags(back_pain):
    html = render_to_string(
        "intake/response_summary.html", {"summary": questionnaire_response_summary(response=store(back_pain))}
    )
    assert "No red flags" in html


def test_responses_have_no_admin_page_of_their_own(admin_client, back_pain):
    """Answers are shown to staff on their request's page only, where each opening is logged (callbacks)."""
    response = store(back_pain, chest_pain=True)
    admin = "/" + settings.ADMIN_URL_PATH
    assert admin_client.get(f"{admin}intake/questionnaireresponse/{response.pk}/change/").status_code == 404
    assert admin_client.get(f"{admin}intake/questionnaireresponse/?tier__exact=emergency").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("admin:intake_questionnaireresponse_changelist")


def test_deleting_responses_takes_their_answers_and_ignores_missing_ids(back_pain):
    kept = store(back_pain)
    gone = store(back_pain, pain_areas=["groin"])
    also_gone = store(back_pain)
    assert questionnaire_responses_delete(response_ids=[gone.pk, also_gone.pk, None, 999_999]) == 2
    assert list(QuestionnaireResponse.objects.all()) == [kept]
    assert set(Answer.objects.values_list("response_id", flat=True)) == {kept.pk}
    assert not AnswerChoice.objects.exclude(answer__response=kept).exists()
    assert questionnaire_responses_delete(response_ids=[]) == 0


def test_the_staff_priority_of_a_response_follows_its_tier(back_pain):
    assert questionnaire_response_staff_priority(response=store(back_pain)) == 4  # routine
    assert questionnaire_response_staff_priority(response=store(back_pain, saddle_numbness=True)) == 1  # emergency


def test_a_step_saved_again_with_other_answers_keeps_the_earlier_version_and_deleting_takes_both(back_pain):
    response = store(back_pain)
    first_answered_at = response.answered_at
    where = next(step for step in back_pain.steps if step.id == "where")
    before = {answer.question_id: answer.value for answer in response.answers.all()}
    # The same answers again change nothing: no version.
    same = {question.id: before[question.id] for question in where.questions if question.id in before}
    questionnaire_response_step_save(response_id=response.pk, step=where, step_answers=same)
    response.refresh_from_db()
    assert response.version == 1 and not response.revisions.exists()

    saved = questionnaire_response_step_save(
        response_id=response.pk, step=where, step_answers={**same, "pain_areas": ["neck"]}
    )
    response.refresh_from_db()
    assert saved.response.version == response.version == 2
    assert response.answers.get(question_id="pain_areas").value == ["neck"]
    [revision] = response.revisions.all()
    assert revision.version == 1 and revision.answers == before
    assert revision.answered_at == first_answered_at <= revision.replaced_at == response.answered_at
    summary = questionnaire_response_summary(response=response)
    [earlier] = summary.earlier_versions
    assert earlier.changed == ("pain_areas",)
    assert summary.version == 2

    assert questionnaire_responses_delete(response_ids=[response.pk]) == 1
    assert not ResponseRevision.objects.exists()
