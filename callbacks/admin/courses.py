"""The front desk's course of care: plan N sessions at a cadence, choose which to book, book them for the caller
in one POST; and cancel the rest of a course. Every change goes through `callbacks.booking.courses`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from callbacks.admin.desk_forms import CallerBookingForm, CancelForm, local_today
from callbacks.admin.forms import ErrorsDescribedMixin
from callbacks.booking.courses import (
    MAX_SESSIONS,
    MIN_SESSIONS,
    Cadence,
    PlannedSession,
    course_book,
    course_cancel_rest,
    course_plan,
    course_rest,
    course_session_starts,
    course_sessions,
)
from callbacks.booking.slots import SlotTaken
from callbacks.models import CourseOfCare, Practitioner, Service
from callbacks.privacy import services as privacy
from clinic.hours import clinic_zone
from intake.selectors import BACK_PAIN, definition_current
from intake.services import AnswersInvalid, QuestionnaireAnswers

CAN_BOOK, CAN_ACT = "callbacks.add_appointment", "callbacks.change_appointment"


class CoursePlanForm(ErrorsDescribedMixin, forms.Form):
    """What to plan (GET): a service and practitioner, the first session's day and time, the cadence, how many."""

    service = forms.ModelChoiceField(label="Service", queryset=Service.objects.none(), empty_label="Choose a service")
    practitioner = forms.ModelChoiceField(
        label="Practitioner", queryset=Practitioner.objects.none(), empty_label="Choose a practitioner"
    )
    day = forms.DateField(
        label="First session on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date, for example 2026-12-01.", "required": "Choose the first day."},
    )
    time = forms.TimeField(
        label="At",
        widget=forms.TimeInput(attrs={"type": "time", "step": 1800}, format="%H:%M"),
        error_messages={"invalid": "Enter a time, for example 10:00.", "required": "Choose the time."},
    )
    cadence = forms.ChoiceField(label="How often", choices=Cadence.choices, initial=Cadence.WEEKLY)
    sessions = forms.IntegerField(
        label="Sessions",
        min_value=MIN_SESSIONS,
        max_value=MAX_SESSIONS,
        initial=6,
        error_messages={
            "min_value": f"A course has at least {MIN_SESSIONS} sessions.",
            "max_value": f"Book at most {MAX_SESSIONS} sessions at once.",
            "required": "Say how many sessions.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True).order_by("name")
        self.fields["practitioner"].queryset = Practitioner.objects.filter(active=True).order_by("name")
        self.fields["service"].error_messages["required"] = "Choose a service."
        self.fields["practitioner"].error_messages["required"] = "Choose a practitioner."

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("day")
        if day and day < local_today():
            self.add_error("day", "Choose today or a later day.")
        service, practitioner = cleaned.get("service"), cleaned.get("practitioner")
        if service and practitioner and not practitioner.services.filter(pk=service.pk).exists():
            self.add_error("practitioner", f"{practitioner.name} does not offer {service.name}.")
        return cleaned

    def first_start(self) -> dt.datetime:
        return dt.datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"], tzinfo=clinic_zone())


def session_label(session: PlannedSession) -> str:
    start, end = session.local_start, session.local_end
    return f"Session {session.number}: {start:%a %d %b %Y}, {start:%H:%M}-{end:%H:%M}"


class CourseBookingForm(CallerBookingForm):
    """The sessions chosen on the plan, then the caller as for one booking (details, consent, safety questions)."""

    chosen = forms.MultipleChoiceField(
        label="Sessions to book",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one session to book.",
            "invalid_choice": "A session you chose is not free any more. Look at the plan again and choose.",
        },
    )

    def __init__(self, *args, plan: list[PlannedSession], definition, **kwargs):
        super().__init__(*args, slots=[], definition=definition, **kwargs)
        del self.fields["slot"]
        self.fields["chosen"].choices = [(s.key, session_label(s)) for s in plan if s.bookable]
        self.fields["chosen"].initial = [s.key for s in plan if s.bookable]
        self.fields["confirm_now"].label = "Confirm the sessions now (the caller agreed the times)"


def _page(model_admin, request, template: str, title: str, **context) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "diary_url": reverse("admin:callbacks_appointment_diary"),
        **context,
    }
    return TemplateResponse(request, f"admin/callbacks/appointment/{template}", context)


def course_book_view(model_admin, request):
    """GET with the plan's fields: the sessions, each checked; POST: book the chosen ones for the caller."""
    if not request.user.has_perm(CAN_BOOK):
        raise PermissionDenied
    plan_form = CoursePlanForm(request.GET or None, initial={"day": local_today() + dt.timedelta(days=1)})
    plan: list[PlannedSession] = []
    if plan_form.is_bound and plan_form.is_valid():
        plan = course_plan(
            service=plan_form.cleaned_data["service"],
            practitioner_id=plan_form.cleaned_data["practitioner"].pk,
            first_start=plan_form.first_start(),
            cadence=plan_form.cleaned_data["cadence"],
            sessions=plan_form.cleaned_data["sessions"],
        )
    definition = definition_current(BACK_PAIN)
    form = CourseBookingForm(request.POST or None, plan=plan, definition=definition)
    if request.method == "POST":
        if not plan:
            messages.error(
                request, "Plan the course first: choose the service, practitioner, first session and cadence."
            )
        elif form.is_valid():
            course = _book(request, plan_form, form, definition)
            if course is not None:
                return HttpResponseRedirect(
                    reverse("admin:callbacks_callbackrequest_change", args=[course.first_request_id])
                )
            plan = course_plan(
                service=plan_form.cleaned_data["service"],
                practitioner_id=plan_form.cleaned_data["practitioner"].pk,
                first_start=plan_form.first_start(),
                cadence=plan_form.cleaned_data["cadence"],
                sessions=plan_form.cleaned_data["sessions"],
            )
            form.fields["chosen"].choices = [(s.key, session_label(s)) for s in plan if s.bookable]
    return _page(
        model_admin,
        request,
        "course.html",
        "Book a course of care",
        plan_form=plan_form,
        plan=plan,
        bookable=[session for session in plan if session.bookable],
        form=form,
        action_url=request.get_full_path(),
    )


def _book(request, plan_form: CoursePlanForm, form: CourseBookingForm, definition) -> CourseOfCare | None:
    data = form.cleaned_data
    questionnaire = QuestionnaireAnswers(definition=definition, answers=data["answers"], complete=False)
    try:
        course = course_book(
            service=plan_form.cleaned_data["service"],
            practitioner_id=plan_form.cleaned_data["practitioner"].pk,
            starts=course_session_starts(data["chosen"]),
            cadence=plan_form.cleaned_data["cadence"],
            sessions_asked=plan_form.cleaned_data["sessions"],
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            reason=data["reason"],
            staff=request.user,
            questionnaire=questionnaire if data["answers"] else None,
            confirm=data["confirm_now"],
        )
    except SlotTaken:
        form.add_error(
            "chosen", "Someone else has just booked one of these times, so nothing was booked. Choose again below."
        )
        return None
    except AnswersInvalid as exc:
        form.add_error(None, "The safety answers could not be stored: " + " ".join(exc.messages))
        return None
    sessions = course_sessions(course)
    messages.success(
        request,
        f"Booked a course of {len(sessions)} session(s) for {data['name']}: "
        + ", ".join(session.request.reference for session in sessions)
        + ".",
    )
    return course


def course_cancel_rest_view(model_admin, request, course_id: str):
    """GET: the sessions still to come and a button; POST: cancel them all, then back to the first request."""
    if not request.user.has_perm(CAN_ACT):
        raise PermissionDenied
    course = CourseOfCare.objects.filter(pk=course_id).first() if course_id.isdigit() else None
    if course is None:
        raise Http404("No such course.")
    back = reverse("admin:callbacks_callbackrequest_change", args=[course.first_request_id])
    rest = course_rest(course)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cancelled = course_cancel_rest(course=course, user=request.user, reason=form.cleaned_data["reason"])
        if cancelled:
            references = ", ".join(session.request.reference for session in cancelled)
            messages.success(request, f"Cancelled {len(cancelled)} session(s) of the course: {references}.")
        else:
            messages.warning(request, "Nothing was cancelled: no session of the course is still to come.")
        return HttpResponseRedirect(back)
    privacy.callback_requests_list_record(
        references=[session.request.reference for session in rest], actor=request.user
    )
    return _page(
        model_admin,
        request,
        "course_cancel.html",
        "Cancel the rest of the course",
        course=course,
        rest=rest,
        form=form,
        back_url=back,
        now=timezone.now(),
    )
