from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Intake questionnaires"

    def ready(self):
        from intake import checks  # noqa: F401 - registers the definition check
