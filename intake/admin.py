"""Questionnaire responses, read-only: they are written by the intake service and never edited by hand."""

from django.contrib import admin
from django.template.loader import render_to_string

from intake.models import QuestionnaireResponse
from intake.selectors import questionnaire_response_summary


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(admin.ModelAdmin):
    list_display = ("id", "questionnaire", "definition_version", "tier", "is_complete", "created_at")
    list_filter = ("tier", "questionnaire", "definition_version", "is_complete")
    date_hierarchy = "created_at"
    fields = ("questionnaire", "definition_version", "tier", "is_complete", "created_at", "summary")
    readonly_fields = fields

    class Media:
        css = {"all": ["intake/admin.css"]}

    @admin.display(description="Answers and triage")
    def summary(self, obj):
        summary = questionnaire_response_summary(response=obj)
        return render_to_string("intake/response_summary.html", {"summary": summary})

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("answers")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
