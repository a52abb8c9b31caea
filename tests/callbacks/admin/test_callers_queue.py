"""The queue for callers (issue 26, item 7) and unscreened requests made visible (item 6): the columns a caller
needs, the "not yet called" filter, a logged call that claims the request and tells others who is ringing, the
"Not screened" badge and asking the safety questions from the request's page."""

import datetime as dt
import importlib
import pkgutil
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.slots import slots_free
from callbacks.models import CallAttempt, CallbackRequest, Notification, Priority, RequestEvent
from callbacks.notifications.emails import notification_email
from callbacks.requests import workflow
from intake.definitions import definition_current
from intake.services import QuestionnaireAnswers, questionnaire_response_create
from tests.callbacks.booking.test_booking import book
from tests.factories import CallbackRequestFactory, UserFactory
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:callbacks_callbackrequest_changelist")
DIARY = reverse("admin:callbacks_appointment_diary")
Outcome = CallAttempt.Outcome
SAFETY_ANSWERS = {**NO_RED_FLAGS["safety"], **NO_RED_FLAGS["health"]}


def staff(username, first_name):
    user = UserFactory(username=username, first_name=first_name, last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def fran():
    return staff("fran", "Fran")


@pytest.fixture
def kim():
    return staff("kim", "Kim")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def listed(response):
    return [row.reference for row in response.context["cl"].result_list]


def screened_request(**fields):
    definition = definition_current("back-pain")
    answers = {**{key: value == "yes" for key, value in NO_RED_FLAGS["safety"].items()}, "age": 34}
    response = questionnaire_response_create(definition=definition, answers=answers, complete=False)
    return CallbackRequestFactory(questionnaire_response=response, **fields)


def change_url(obj):
    return reverse("admin:callbacks_callbackrequest_change", args=[obj.pk])


# The queue's columns and filter


def test_the_queue_shows_phone_to_tap_window_kind_and_calls(fran):
    zone_now = timezone.localtime(timezone.now())
    start = zone_now.replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    called = CallbackRequestFactory(
        reference="CB-CALL1", phone="+447400123456", window_start=start, window_end=start + dt.timedelta(hours=2)
    )
    CallbackRequestFactory(reference="CB-BOOK1", kind=CallbackRequest.Kind.BOOKING)
    for outcome in (Outcome.NO_ANSWER, Outcome.VOICEMAIL):
        workflow.call_attempt_log(request=called, actor=fran, outcome=outcome)
    response = client_for(fran).get(CHANGELIST)
    html = response.content.decode()
    assert '<a class="triage-phone" href="tel:+447400123456">+44 7400 123456</a>' in html
    page = text(response)
    assert f"{start:%a} {start.day} {start:%b}, 10:00-12:00" in page
    assert "Callback " + f"{start:%a} {start.day} {start:%b}, 10:00-12:00" in page
    assert "Booking" in page
    assert "2 logged" in page
    assert "Not yet called" in page  # the booking


def test_not_yet_called_filter_lists_only_the_untouched(fran):
    first = CallbackRequestFactory(reference="CB-RUNG1")
    CallbackRequestFactory(reference="CB-NEW01")
    CallbackRequestFactory(reference="CB-NEW02")
    workflow.call_attempt_log(request=first, actor=fran, outcome=Outcome.NO_ANSWER)
    client = client_for(fran)
    assert sorted(listed(client.get(CHANGELIST, {"called": "no"}))) == ["CB-NEW01", "CB-NEW02"]
    assert listed(client.get(CHANGELIST, {"called": "yes"})) == ["CB-RUNG1"]


def test_the_new_columns_and_filters_cost_no_query_per_row(fran, kim):
    def page_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client_for(kim).get(CHANGELIST, params)
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    for _ in range(3):
        workflow.call_attempt_log(request=CallbackRequestFactory(), actor=fran, outcome=Outcome.NO_ANSWER)
    small, shown = page_queries()
    assert shown == 3
    for index in range(30):
        request = screened_request() if index % 2 else CallbackRequestFactory()
        workflow.call_attempt_log(request=request, actor=fran, outcome=Outcome.NO_ANSWER)
    large, shown = page_queries()
    assert shown == 33
    assert large == small
    assert page_queries(called="yes", screened="no")[0] == small


# A logged call claims the request


def test_logging_a_call_assigns_an_unassigned_request_to_the_caller_with_history(fran):
    request = CallbackRequestFactory()
    workflow.call_attempt_log(request=request, actor=fran, outcome=Outcome.NO_ANSWER)
    request.refresh_from_db()
    assert request.assigned_to == fran
    assert (request.calls_logged, request.last_call_by) == (1, fran)
    assert RequestEvent.objects.filter(request=request, field="assigned_to", after="Fran Desk (fran)").exists()


def test_logging_a_call_leaves_someone_elses_assignment_alone(fran, kim):
    request = CallbackRequestFactory(assigned_to=kim)
    workflow.call_attempt_log(request=request, actor=fran, outcome=Outcome.NO_ANSWER)
    request.refresh_from_db()
    assert request.assigned_to == kim
    assert request.last_call_by == fran


def test_the_call_form_says_the_request_is_now_yours(fran):
    request = CallbackRequestFactory()
    url = reverse("admin:callbacks_callbackrequest_workflow", args=[request.pk, "call"])
    response = client_for(fran).post(url, {"call-outcome": Outcome.NO_ANSWER, "call-note": ""}, follow=True)
    assert "It is now assigned to you." in text(response)


def test_others_see_being_called_by_for_the_claim_time_only(fran, kim, settings):
    settings.CLINIC_CALL_CLAIM_MINUTES = 5
    request = CallbackRequestFactory(reference="CB-RING1")
    workflow.call_attempt_log(request=request, actor=fran, outcome=Outcome.NO_ANSWER)
    assert "Being called by Fran Desk" in text(client_for(kim).get(CHANGELIST))
    assert "Being called by Fran Desk" in text(client_for(kim).get(change_url(request)))
    # The caller does not see their own name.
    assert "Being called by" not in text(client_for(fran).get(CHANGELIST))
    assert "Being called by" not in text(client_for(fran).get(change_url(request)))
    CallbackRequest.objects.filter(pk=request.pk).update(last_call_at=timezone.now() - dt.timedelta(minutes=6))
    assert "Being called by" not in text(client_for(kim).get(CHANGELIST))
    assert "Being called by" not in text(client_for(kim).get(change_url(request)))


def calls_backfill_sql() -> str:
    import callbacks.migrations

    (name,) = [
        m.name for m in pkgutil.iter_modules(callbacks.migrations.__path__) if m.name.endswith("_course_and_calls")
    ]
    return importlib.import_module(f"callbacks.migrations.{name}").CALLS_BACKFILL


def test_the_migration_counts_the_calls_already_logged(fran, kim):
    request = CallbackRequestFactory()
    earlier = timezone.now() - dt.timedelta(hours=2)
    CallAttempt.objects.create(request=request, made_by=kim, made_at=earlier, outcome=Outcome.NO_ANSWER)
    CallAttempt.objects.create(request=request, made_by=fran, outcome=Outcome.VOICEMAIL)
    untouched = CallbackRequestFactory()
    with connection.cursor() as cursor:
        cursor.execute(calls_backfill_sql())
    request.refresh_from_db()
    untouched.refresh_from_db()
    assert (request.calls_logged, request.last_call_by) == (2, fran)
    assert (untouched.calls_logged, untouched.last_call_by) == (0, None)


# Not screened


def test_unscreened_requests_carry_their_own_badge_and_filter(fran):
    screened_request(reference="CB-SCRN1")
    CallbackRequestFactory(reference="CB-UNSC1")
    client = client_for(fran)
    rows = {row.reference: row for row in client.get(CHANGELIST).context["cl"].result_list}
    html = client.get(CHANGELIST).content.decode()
    unscreened_row = html[html.index("CB-UNSC1") : html.index("CB-UNSC1") + 2000]
    screened_row = html[html.index("CB-SCRN1") : html.index("CB-SCRN1") + 2000]
    assert "triage-badge--unscreened" in unscreened_row.split("</tr>")[0]
    assert "triage-badge--unscreened" not in screened_row.split("</tr>")[0]
    assert set(rows) == {"CB-SCRN1", "CB-UNSC1"}
    assert listed(client.get(CHANGELIST, {"screened": "no"})) == ["CB-UNSC1"]
    assert listed(client.get(CHANGELIST, {"screened": "yes"})) == ["CB-SCRN1"]


def test_an_unscreened_request_page_prompts_and_a_screened_one_does_not(fran):
    unscreened = CallbackRequestFactory()
    page = text(client_for(fran).get(change_url(unscreened)))
    assert "Not screened: the safety questions were not asked" in page
    assert "Ask the safety questions now" in page
    assert "Not screened" not in text(client_for(fran).get(change_url(screened_request())))


def screen_url(obj):
    return reverse("admin:callbacks_callbackrequest_screen", args=[obj.pk])


def test_asking_the_questions_needs_every_answer_and_saves_nothing_otherwise(fran):
    request = CallbackRequestFactory()
    data = {f"q_{key}": value for key, value in SAFETY_ANSWERS.items()}
    data.pop("q_fever")
    response = client_for(fran).post(screen_url(request), data)
    assert response.status_code == 200
    page = text(response)
    assert "Nothing was saved: there is a problem" in page
    assert "Ask this question and record the answer." in page
    assert 'id="error-summary"' in response.content.decode()
    request.refresh_from_db()
    assert request.questionnaire_response is None


def test_routine_answers_screen_the_request_and_the_history_says_who(fran):
    request = CallbackRequestFactory(priority=Priority.ROUTINE)
    data = {f"q_{key}": value for key, value in SAFETY_ANSWERS.items()}
    response = client_for(fran).post(screen_url(request), data, follow=True)
    assert "Safety questions recorded" in text(response)
    request.refresh_from_db()
    assert request.questionnaire_response is not None
    assert request.priority == Priority.ROUTINE
    event = RequestEvent.objects.get(request=request, field="screening")
    assert (event.actor, event.before) == (fran, "Not screened")
    page = text(client_for(fran).get(change_url(request)))
    assert "the safety questions were not asked" not in page
    assert "Safety questions: Not screened → Safety questions asked by staff: Routine" in page


def test_an_urgent_answer_raises_the_priority_reopens_a_booked_request_and_tells_staff(fran):
    request = CallbackRequestFactory(
        priority=Priority.ROUTINE, kind=CallbackRequest.Kind.BOOKING, status=CallbackRequest.Status.BOOKED
    )
    data = {f"q_{key}": value for key, value in SAFETY_ANSWERS.items()} | {"q_fever": "yes"}
    response = client_for(fran).post(screen_url(request), data, follow=True)
    assert "urgent: the patient should see a doctor today" in text(response)
    request.refresh_from_db()
    assert request.priority == Priority.URGENT
    assert request.status == CallbackRequest.Status.IN_PROGRESS
    assert Notification.objects.filter(request=request, kind=Notification.Kind.STAFF_PRIORITY_RAISED).exists()


def test_a_screened_request_is_not_asked_again(fran):
    request = screened_request()
    response = client_for(fran).get(screen_url(request), follow=True)
    assert "was screened already" in text(response)


def test_the_diary_and_the_appointments_list_mark_an_unscreened_booking(fran, service, practitioner):
    from tests.callbacks.booking.test_booking import book

    slots = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=2), days=1)
    unscreened = book(service, practitioner, slots[0].starts_at, name="Una Screened")
    definition = definition_current("back-pain")
    answers = {**{key: value == "yes" for key, value in NO_RED_FLAGS["safety"].items()}, "age": 34}
    screened = book(
        service,
        practitioner,
        slots[4].starts_at,
        name="Sara Screened",
        questionnaire=QuestionnaireAnswers(definition=definition, answers=answers, complete=False),
    )
    day = slots[0].local_start.date()
    client = client_for(fran)
    html = client.get(f"{DIARY}?view=day&day={day.isoformat()}&practitioner={practitioner.pk}").content.decode()
    for appointment, marked in ((unscreened, True), (screened, False)):
        at = html.index(appointment.request.reference)
        row = html[max(0, at - 600) : at]
        assert ("triage-badge--unscreened" in row.rsplit("<li", 1)[-1]) is marked
    listing = client.get(reverse("admin:callbacks_appointment_changelist")).content.decode()
    unscreened_row = listing[: listing.index(unscreened.request.reference)].rsplit("<tr", 1)[-1]
    screened_row = listing[: listing.index(screened.request.reference)].rsplit("<tr", 1)[-1]
    assert "Not screened" in unscreened_row and "Not screened" not in screened_row


def test_an_emergency_answer_on_a_booking_tells_staff_its_time_is_still_held(fran, service, practitioner):
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
    appointment = book(service, practitioner, slot.starts_at)
    data = {f"q_{key}": value for key, value in SAFETY_ANSWERS.items()} | {"q_saddle_numbness": "yes"}
    client_for(fran).post(screen_url(appointment.request), data, follow=True)
    alert = Notification.objects.get(request=appointment.request, kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    body = notification_email(alert).body
    # Staff asked the questions; the slot was not released by them: the e-mail must not say it was.
    assert "still holds its appointment time" in body
    assert "has been released" not in body
