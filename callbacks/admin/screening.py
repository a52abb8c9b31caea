"""Asking an unscreened request's safety questions from its page (`callbacks.requests.screening` stores them and
re-triages): the same questions as the patients' first pages and the desk's "Book for a caller"."""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from callbacks.admin.desk_forms import NO, QUESTION_PREFIX, YES, CallerBookingForm, screening_questions
from callbacks.admin.display import phone_display
from callbacks.admin.forms import ErrorsDescribedMixin
from callbacks.models import Priority
from callbacks.requests.screening import callback_request_screen
from callbacks.rules.requests import priority_is_urgent
from callbacks.rules.screening import request_screened
from intake.selectors import BACK_PAIN, AnswerType, Definition, definition_current
from intake.services import AnswersInvalid


class ScreeningForm(ErrorsDescribedMixin, forms.Form):
    """Every safety question, each answered: the point is that none is left out."""

    def __init__(self, *args, definition: Definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.questions = screening_questions(definition)
        for question in self.questions:
            field = CallerBookingForm._question_field(question)
            field.required = True
            field.error_messages["required"] = "Ask this question and record the answer."
            self.fields[QUESTION_PREFIX + question.id] = field

    def answers(self) -> dict:
        answers = {}
        for question in self.questions:
            value = self.cleaned_data[QUESTION_PREFIX + question.id]
            answers[question.id] = value == YES if question.type is AnswerType.YES_NO else value
        return answers


class ScreeningAdminMixin:
    """The "Ask the safety questions" page of a request that was never screened."""

    def screening_urls(self):
        return [
            path(
                "<path:object_id>/safety-questions/",
                self.admin_site.admin_view(self.screening_view),
                name="callbacks_callbackrequest_screen",
            )
        ]

    def screening_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        change_url = reverse("admin:callbacks_callbackrequest_change", args=[obj.pk])
        if request_screened(obj):
            self.message_user(request, f"{obj.reference} was screened already.", messages.INFO)
            return HttpResponseRedirect(change_url)
        definition = definition_current(BACK_PAIN)
        form = ScreeningForm(request.POST or None, definition=definition)
        if request.method == "POST" and form.is_valid():
            try:
                screened = callback_request_screen(
                    request=obj, definition=definition, answers=form.answers(), actor=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except AnswersInvalid as exc:
                form.add_error(None, "The answers could not be stored: " + " ".join(exc.messages))
            else:
                self._screened_message(request, screened)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/callbacks/callbackrequest/screen.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Safety questions for {obj.reference}",
                "original": obj,
                "triage": obj,
                "phone_display": phone_display(str(obj.phone)),
                "form": form,
                "question_fields": [form[QUESTION_PREFIX + question.id] for question in form.questions],
                "change_url": change_url,
                "yes_no": (YES, NO),
            },
        )

    def _screened_message(self, request, screened) -> None:
        priority = Priority(screened.priority)
        if priority == Priority.EMERGENCY:
            self.message_user(
                request,
                f"The answers make {screened.reference} an emergency: tell the patient to call the emergency number "
                "or go to the emergency department now. Its appointment, if any, is still held: cancel it if "
                "they will not come.",
                messages.ERROR,
            )
        elif priority_is_urgent(priority):
            self.message_user(
                request,
                f"The answers make {screened.reference} urgent: the patient should see a doctor today. "
                "Staff have been told, and it is back in the queue.",
                messages.WARNING,
            )
        else:
            self.message_user(
                request, f"Safety questions recorded: {screened.reference} is “{priority.label}”.", messages.SUCCESS
            )
