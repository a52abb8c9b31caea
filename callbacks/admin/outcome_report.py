"""The clinic's outcome report on the staff screens: a period form, the figures, and their CSV.

Seeing it needs ``callbacks.view_outcome_report``; downloading the CSV also needs the queue's export permission
(``callbacks.export_callbackrequest``); every reading and every download is in the privacy log with its
period. Figures about fewer than five patients are withheld on the page and in the CSV alike. The figures
come from `callbacks.requests.outcome_report`; nothing here counts anything.
"""

import csv
import datetime as dt
import io

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from callbacks.admin.export import csv_safe
from callbacks.admin.forms import ErrorsDescribedMixin
from callbacks.booking.attendance_figures import attendance_figures_cached
from callbacks.privacy.services import outcome_report_export_record, outcome_report_view_record
from callbacks.requests.outcome_report import GroupRow, OutcomeReport, outcome_report
from callbacks.rules.outcomes import OUTCOME_MEASURES
from clinic.hours import clinic_zone

VIEW_PERMISSION = "callbacks.view_outcome_report"
EXPORT_PERMISSION = "callbacks.export_callbackrequest"
DEFAULT_DAYS = 90
# Ten years: a typo in the year ("0202") gets a clear message rather than a report of the whole history.
LONGEST_PERIOD_DAYS = 3660


def clinic_today() -> dt.date:
    return timezone.localtime(timezone.now(), clinic_zone()).date()


class OutcomeReportForm(ErrorsDescribedMixin, forms.Form):
    date_from = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), help_text="First day."
    )
    date_to = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), help_text="Last day, included."
    )

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_to and date_to > clinic_today():
            self.add_error("date_to", "The period cannot end after today.")
        elif date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The last day cannot be before the first day.")
        elif date_from and date_to and (date_to - date_from).days >= LONGEST_PERIOD_DAYS:
            self.add_error("date_from", "Choose a period of ten years or less.")
        return cleaned


def default_period() -> dict[str, dt.date]:
    """The last 90 days, today included."""
    today = clinic_today()
    return {"date_from": today - dt.timedelta(days=DEFAULT_DAYS - 1), "date_to": today}


def report_csv_rows(report: OutcomeReport) -> list[list[str]]:
    header = ["breakdown", "group", "patients sent a follow-up", "patients who answered", "response rate (%)"]
    for measure in OUTCOME_MEASURES:
        header += [
            f"{measure.score_id}: patients with an answer",
            f"{measure.score_id}: patients counted",
            f"{measure.score_id}: median {measure.summary_label}",
        ]
    sections = (
        ("overall", (report.overall,)),
        ("practitioner", report.by_practitioner),
        ("service", report.by_service),
    )
    # Which answer each median's changes start from, last so that the columns above keep their places.
    header += [f"{measure.score_id}: change measured from" for measure in OUTCOME_MEASURES]
    rows = [header]
    for breakdown, groups in sections:
        for group in groups:
            rows.append([breakdown, *_group_cells(group)])
    # Text is made safe for a spreadsheet; numbers stay numbers (a median change of -2 is not a formula).
    return [[cell if isinstance(cell, int | float) else csv_safe(cell) for cell in row] for row in rows]


def _group_cells(group: GroupRow) -> list:
    # The shown values only: figures about fewer than five patients are withheld here as on the page.
    cells = [group.label, group.sent_shown, group.answered_shown, group.response_rate_shown]
    for figure in group.measures:
        cells += [figure.answered_shown, figure.counted_shown, figure.median_shown]
    return cells + [figure.baseline_shown for figure in group.measures]


class OutcomeReportAdminMixin:
    def outcome_report_urls(self) -> list:
        return [
            path(
                "outcome-report/",
                self.admin_site.admin_view(self.outcome_report_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_outcome_report",
            )
        ]

    def outcome_report_view(self, request):
        """GET only: the form (the last 90 days unless chosen), the figures, or (``format=csv``) the file."""
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        bound = "date_from" in request.GET or "date_to" in request.GET
        form = OutcomeReportForm(request.GET if bound else None, initial=default_period())
        period = form.cleaned_data if bound and form.is_valid() else (None if bound else default_period())
        report = outcome_report(**period) if period else None
        can_export = request.user.has_perm(EXPORT_PERMISSION)
        if report is not None and request.GET.get("format") == "csv":
            if not can_export:
                raise PermissionDenied
            return self._outcome_report_csv(request, report)
        if report is not None:
            outcome_report_view_record(date_from=report.date_from, date_to=report.date_to, actor=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Outcome report",
            "form": form,
            "report": report,
            # The attendance figures of the same period (issue 26): did not attend, waits, utilisation.
            "attendance": attendance_figures_cached(first_day=report.date_from, last_day=report.date_to)
            if report
            else None,
            "measures": OUTCOME_MEASURES,
            "can_export": can_export,
            "csv_query": f"date_from={report.date_from.isoformat()}&date_to={report.date_to.isoformat()}&format=csv"
            if report
            else "",
            "report_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_outcome_report"),
        }
        return TemplateResponse(request, "admin/callbacks/outcome_report.html", context)

    def _outcome_report_csv(self, request, report: OutcomeReport) -> HttpResponse:
        outcome_report_export_record(date_from=report.date_from, date_to=report.date_to, actor=request.user)
        buffer = io.StringIO()
        csv.writer(buffer).writerows(report_csv_rows(report))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"outcome-report-{report.date_from.isoformat()}-to-{report.date_to.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
