"""Patients on the staff screens: the patient's page (their requests and appointments together, the history of
links, one download and one erasure of everything), the search that finds them, and on a request's page the
panel that shows its patient and offers the other patients with its phone number ("Link", "Not the same person",
"Unlink")."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from callbacks.admin.display import ADMIN_CSS, phone_display
from callbacks.models import CallbackRequest, Patient
from callbacks.patients import selectors as patients
from callbacks.patients.services import (
    PatientLinkRefused,
    request_patient_link,
    request_patient_not_same,
    request_patient_unlink,
)
from callbacks.privacy import patients as patient_privacy
from callbacks.privacy import services as privacy
from callbacks.requests.phone import phone_search_variants
from callbacks.rules.staff import staff_display_name
from clinic.admin_lookups import OfferedLookupsOnlyMixin

LINK_PERMISSION = "callbacks.change_patient"


@admin.register(Patient)
class PatientAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("number_shown", "name", "phone_shown", "created_at")
    list_display_links = ("number_shown",)
    search_fields = ("name", "phone")
    search_help_text = (
        "Name, phone number (typed any way: 07400 123456, +44 7400 123456...) or one of their requests' references."
    )
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-pk",)

    class Media:
        css = {"all": [ADMIN_CSS, "callbacks/admin/patients.css"]}

    def has_add_permission(self, request):
        # A patient is made by their first request (`callbacks.patients.services`), never by a bare form.
        return False

    def has_change_permission(self, request, obj=None):
        # Linking goes through the request's page; the patient's own page has nothing to edit.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting goes through "Erase all this patient's data", which is logged.
        return False

    @admin.display(description="Patient", ordering="pk")
    def number_shown(self, patient):
        return patient.number

    @admin.display(description="Phone", ordering="phone")
    def phone_shown(self, patient):
        return phone_display(str(patient.phone))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.upper().startswith("P-") and term[2:].isdigit():
            return queryset.filter(pk=int(term[2:])), False
        if term.upper().startswith("CB-"):
            # A request's reference: its patient (a subquery on the unique reference, no join of every request).
            owner = CallbackRequest.objects.filter(reference=term.upper()).values("patient_record_id")
            return queryset.filter(pk__in=owner), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        variants = phone_search_variants(search_term)
        if variants:
            results |= queryset.filter(phone__in=variants)
        return results, may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, {"title": "Patients", **(extra_context or {})})
        changelist = getattr(response, "context_data", {}).get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            privacy.callback_requests_list_record(
                references=[patient.number for patient in changelist.result_list], actor=request.user
            )
        return response

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/privacy/export/",
                self.admin_site.admin_view(self.export_view),
                name="%s_%s_privacy_export" % info,  # noqa: UP031 - the admin's own naming pattern
            ),
            path(
                "<path:object_id>/privacy/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="%s_%s_privacy_erase" % info,  # noqa: UP031
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, unquote(object_id))
        if patient is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, patient):
            raise PermissionDenied
        requests = list(patients.patient_requests(patient=patient))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": patient,
            "title": f"Patient {patient.number}: {patient.name}",
            "patient": patient,
            "phone_display": phone_display(str(patient.phone)),
            "requests": requests,
            "appointments": list(patients.patient_appointments(patient=patient)),
            "history": [
                (event, staff_display_name(event.actor) if event.actor else "The matching rule")
                for event in patients.patient_link_history(patient=patient)
            ],
            "can_export_patient_data": request.user.has_perm("callbacks.export_patient_data"),
            "can_erase_patient_data": request.user.has_perm("callbacks.erase_patient_data"),
            "export_url": reverse("admin:callbacks_patient_privacy_export", args=[patient.pk]),
            "erase_url": reverse("admin:callbacks_patient_privacy_erase", args=[patient.pk]),
        }
        # The page shows the patient's requests (names, priorities): whom it showed, and to whom, is logged.
        privacy.callback_requests_list_record(
            references=[patient.number, *(r.reference for r in requests)], actor=request.user
        )
        return TemplateResponse(request, "admin/callbacks/patient/change_form.html", context)

    def _privacy_patient(self, request, object_id, permission: str) -> Patient:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        patient = self.get_object(request, unquote(object_id))
        if patient is None:
            raise Http404("No such patient.")
        return patient

    def _confirm_page(self, request, patient, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/callbacks/patient/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": patient,
                "title": title,
                "change_url": reverse("admin:callbacks_patient_change", args=[patient.pk]),
                "references": list(
                    CallbackRequest.objects.filter(patient_record=patient)
                    .order_by("created_at")
                    .values_list("reference", flat=True)
                ),
                **context,
            },
        )

    def export_view(self, request, object_id):
        """GET: what the download holds and that it is recorded; POST: one JSON file of all their requests."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        patient = self._privacy_patient(request, object_id, "callbacks.export_patient_data")
        if request.method == "GET":
            return self._confirm_page(request, patient, "privacy_export.html", "Download all this patient's data")
        content = patient_privacy.patient_export(patient=patient, actor=request.user)
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="patient-data-{patient.number}.json"'
        response["Cache-Control"] = "no-store"
        return response

    def erase_view(self, request, object_id):
        """GET: what will be deleted, and a button; POST: erase every request and the patient."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        patient = self._privacy_patient(request, object_id, "callbacks.erase_patient_data")
        if request.method == "GET":
            return self._confirm_page(request, patient, "privacy_erase.html", "Erase all this patient's data")
        number = patient.number
        references = patient_privacy.patient_erase(patient=patient, actor=request.user)
        self.message_user(
            request,
            f"Patient {number} and their {len(references)} request(s) ({', '.join(references)}) are erased. "
            "The privacy log keeps who erased them, when.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:callbacks_patient_changelist"))


# On a request's page -----------------------------------------------------------------------------------------

PATIENT_ACTIONS = ("link", "not_same", "unlink")


class RequestPatientAdminMixin:
    """The request page's "Patient" panel and its three buttons, each POSTed to its own URL."""

    def patient_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/patient/<slug:action>/",
                self.admin_site.admin_view(self.patient_link_view),
                name="%s_%s_patient" % info,  # noqa: UP031 - the admin's own naming pattern
            ),
        ]

    def patient_context(self, request, obj) -> dict[str, Any]:
        patient = obj.patient_record
        others = list(patients.patient_requests(patient=patient).exclude(pk=obj.pk)) if patient else []
        return {
            "patient": patient,
            "patient_url": reverse("admin:callbacks_patient_change", args=[patient.pk]) if patient else "",
            "patient_other_requests": others,
            "patient_offers": patients.patient_offers_for_request(request=obj),
            "can_link_patient": request.user.has_perm(LINK_PERMISSION),
            "patient_action_urls": {
                action: reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_patient", args=[obj.pk, action])
                for action in PATIENT_ACTIONS
            },
        }

    def patient_link_view(self, request, object_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in PATIENT_ACTIONS:
            raise Http404("No such action.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not request.user.has_perm(LINK_PERMISSION):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        other = None
        if action != "unlink":
            raw = request.POST.get("patient", "")
            other = Patient.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if other is None:
                self.message_user(request, "Nothing was changed: that patient is not known (erased?).", messages.ERROR)
                return HttpResponseRedirect(change_url + "#patient")
        try:
            if action == "link":
                request_patient_link(request=obj, patient=other, actor=request.user)
                message = f"{obj.reference} is now linked to patient {other.number}, {other.name}."
            elif action == "not_same":
                request_patient_not_same(request=obj, patient=other, actor=request.user)
                message = f"Noted: {obj.reference} is not from patient {other.number}. It is no longer offered."
            else:
                patient = request_patient_unlink(request=obj, actor=request.user)
                message = f"{obj.reference} is unlinked: it is now patient {patient.number}, on its own."
        except PatientLinkRefused as exc:
            self.message_user(request, f"Nothing was changed: {exc}", messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(change_url + "#patient")
