from django.db import models
from django.db.models import Q
from django.utils import timezone

from intake.definitions import AnswerType, Definition, Tier, definition_get

# Plain strings, so that migrations do not depend on the enum's Python names.
YES_NO = AnswerType.YES_NO.value
NUMBERS = [AnswerType.SCALE.value, AnswerType.INTEGER.value]
TEXTS = [AnswerType.SINGLE_CHOICE.value, AnswerType.TEXT.value]
MULTIS = [AnswerType.MULTI_CHOICE.value, AnswerType.BODY_AREA.value]


class QuestionnaireResponse(models.Model):
    """One completed (or, after an emergency, partly completed) questionnaire and its triage result."""

    questionnaire = models.CharField(max_length=60, help_text="The definition's slug, e.g. back-pain.")
    definition_version = models.PositiveIntegerField(help_text="The exact definition version that was answered.")
    tier = models.CharField(max_length=10, choices=Tier.choices)
    triage_reasons = models.JSONField(default=list, blank=True)
    scores = models.JSONField(default=list, blank=True)
    # Safety questions asked again because of what the patient wrote or marked: question id -> their answer.
    # Kept so that a response re-triaged when a later page is saved is judged with them again.
    rechecks = models.JSONField(default=dict, blank=True)
    is_complete = models.BooleanField(
        default=True, help_text="False when the request was sent from the emergency advice, before the end."
    )
    # Answers are never overwritten: a correction stores the answers it replaces as a `ResponseRevision` of this
    # number and counts this one up; the rows of `Answer` are always the current version.
    version = models.PositiveIntegerField(default=1, help_text="1 until the patient corrects an answer.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_at = models.DateTimeField(default=timezone.now, help_text="When answers were last added or changed.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["questionnaire", "definition_version"], name="intake_resp_definition"),
            models.Index(fields=["tier", "created_at"], name="intake_resp_tier"),
            models.Index(fields=["created_at"], name="intake_resp_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(definition_version__gte=1), name="intake_resp_version_positive"),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="intake_resp_tier_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="intake_resp_answers_version_positive"),
        ]

    def __str__(self):
        return f"{self.questionnaire}/v{self.definition_version} response {self.pk} ({self.tier})"

    @property
    def definition(self) -> Definition:
        """The definition this response answered, even if a newer version has shipped since."""
        return definition_get(self.questionnaire, self.definition_version)


class Answer(models.Model):
    """One answer, stored by type so that it can be queried: yes/no, number, text or choices.

    A single choice is stored in ``value_text``; multiple choices in ``value_choices`` (for display, in the
    definition's order) and one `AnswerChoice` row each (for queries that work on every database).
    """

    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.CASCADE, related_name="answers")
    question_id = models.CharField(max_length=64)
    answer_type = models.CharField(max_length=16, choices=[(t.value, t.value) for t in AnswerType])
    value_bool = models.BooleanField(null=True, blank=True)
    value_int = models.IntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True, max_length=5000)
    value_choices = models.JSONField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(help_text="Order of the question in its definition.")

    class Meta:
        ordering = ["response", "position"]
        indexes = [
            models.Index(fields=["question_id", "value_bool"], name="intake_ans_bool"),
            models.Index(fields=["question_id", "value_int"], name="intake_ans_int"),
            models.Index(fields=["question_id", "value_text"], name="intake_ans_text"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["response", "question_id"], name="intake_ans_once_per_question"),
            # The column that fits the answer type holds the value.
            models.CheckConstraint(
                condition=(
                    Q(answer_type=YES_NO, value_bool__isnull=False)
                    | Q(answer_type__in=NUMBERS, value_int__isnull=False)
                    | (Q(answer_type__in=TEXTS) & ~Q(value_text=""))
                    | Q(answer_type__in=MULTIS, value_choices__isnull=False)
                ),
                name="intake_ans_value_fits_type",
            ),
        ]

    def __str__(self):
        return f"{self.question_id} on response {self.response_id}"

    @property
    def value(self):
        """The answer as the services and triage see it (bool, int, str or list of choice values)."""
        if self.answer_type == YES_NO:
            return self.value_bool
        if self.answer_type in NUMBERS:
            return self.value_int
        if self.answer_type in MULTIS:
            return list(self.value_choices or [])
        return self.value_text


class AnswerChoice(models.Model):
    """One chosen option of a multiple-choice answer, e.g. every response with pain in the left buttock."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="choices")
    question_id = models.CharField(max_length=64)
    value = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["question_id", "value"], name="intake_choice_lookup")]
        constraints = [models.UniqueConstraint(fields=["answer", "value"], name="intake_choice_once")]

    def __str__(self):
        return f"{self.question_id}={self.value}"


class ResponseRevision(models.Model):
    """An earlier version of a response's answers, kept when the patient corrected them (append-only).

    Written only by `intake.services.questionnaire_response_step_save`, never changed afterwards: staff read
    what the patient first said beside what they say now. ``answers`` maps question id to the value as
    `Answer.value` gives it; ``tier`` and ``triage_reasons`` are what that version was judged to be.
    """

    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    answers = models.JSONField(default=dict)
    rechecks = models.JSONField(default=dict, blank=True)
    tier = models.CharField(max_length=10, choices=Tier.choices)
    triage_reasons = models.JSONField(default=list, blank=True)
    answered_at = models.DateTimeField(help_text="When this version's answers were last added to.")
    replaced_at = models.DateTimeField(default=timezone.now, help_text="When the patient's correction replaced it.")

    class Meta:
        ordering = ["response", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["response", "version"], name="intake_revision_once_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="intake_revision_version_positive"),
        ]

    def __str__(self):
        return f"response {self.response_id} version {self.version}"
