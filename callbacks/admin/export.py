"""The queue's exports: the CSV of workload figures (no contact or health details, safe to open in a spreadsheet)
and the questionnaire answers as FHIR, which are health details: the patient-data permission, privacy-logged."""

import csv
from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from callbacks.privacy.services import callback_requests_fhir_export
from clinic.hours import clinic_zone


def csv_safe(value: Any) -> str:
    """Stop a spreadsheet from running a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Echo:
    def write(self, value):
        return value


class ExportAdminMixin:
    def has_export_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_{self.opts.model_name}")

    def has_export_patient_data_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_patient_data")

    @admin.action(description="Export questionnaire answers as FHIR (JSON)", permissions=["export_patient_data"])
    def export_fhir(self, request, queryset):
        """Every answer set of the chosen requests (their own and their answered follow-ups'): one
        QuestionnaireResponse when there is one, else a Bundle; names left out; each request logged once."""
        export = callback_requests_fhir_export(
            requests=queryset.select_related("questionnaire_response"), actor=request.user
        )
        if export.without_answers:
            skipped = ", ".join(export.without_answers)
            self.message_user(request, f"No questionnaire answers to export for {skipped}.", messages.WARNING)
        if not export.references:
            return None
        name = export.references[0] if len(export.references) == 1 else f"{len(export.references)}-requests"
        response = HttpResponse(export.content, content_type="application/fhir+json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="questionnaire-answers-{name}.json"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Export as CSV (no health details)", permissions=["export"])
    def export_csv(self, request, queryset):
        """Workload figures for the clinic's managers: no contact details, reasons or answers."""
        header = ["reference", "kind", "received", "priority", "status", "outcome", "assigned_to", "deadline", "closed"]
        writer = csv.writer(Echo())

        def rows() -> Iterable[str]:
            yield writer.writerow(header)
            for obj in queryset.select_related("assigned_to").iterator(chunk_size=2000):
                yield writer.writerow(
                    csv_safe(v)
                    for v in (
                        obj.reference,
                        obj.kind,
                        obj.created_at.isoformat(),
                        obj.get_priority_display(),
                        obj.get_status_display(),
                        obj.get_outcome_display(),
                        obj.assigned_to.get_username() if obj.assigned_to else "",
                        obj.deadline.isoformat() if obj.deadline else "",
                        obj.closed_at.isoformat() if obj.closed_at else "",
                    )
                )

        stamp = timezone.localtime(timezone.now(), clinic_zone()).strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="callback-requests-{stamp}.csv"'
        return response
