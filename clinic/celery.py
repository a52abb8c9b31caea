import datetime as dt
import logging
import os

from celery import Celery
from celery.signals import before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# clinic.heartbeat.HEARTBEAT_TASK; that module reads the database, which is not ready when this one loads.
HEARTBEAT_TASK = "clinic.tasks.heartbeat"


@before_task_publish.connect(sender=HEARTBEAT_TASK)
def heartbeat_carries_its_sending_time(body=None, **kwargs):
    """Beat's schedule gives a task fixed arguments; the heartbeat needs the moment beat sent it (which proves
    beat alive), so it is added here, in the process that publishes it. Body: (args, kwargs, embed)."""
    body[1].setdefault("sent_at", dt.datetime.now(dt.UTC).isoformat())


class BeatSendFailureOneLine(logging.Filter):
    """One line for a due task that beat could not send, instead of the call stack and the whole chained
    traceback (about 300 lines) that Celery logs on every tick while the broker is down. The exception's text
    names the task and the cause ("Couldn't apply scheduled task outbox-requeue-stale: Error 111 connecting to
    redis:6379. Connection refused."); beat sends the task again at its next run."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Message Error") and record.args:
            error = record.args[0]
            record.msg = "beat: a due task was not sent (%s: %s); it is sent again at its next run"
            record.args = (type(error).__name__, error)
            record.exc_info = record.exc_text = record.stack_info = None
        return True


logging.getLogger("celery.beat").addFilter(BeatSendFailureOneLine())


class ChosenSettingReminderDropped(logging.Filter):
    """Drops Celery's reminder about worker_cancel_long_running_tasks_on_connection_loss, which the worker logs
    on every lost connection whatever the setting's value unless it is True. It is chosen explicitly (False, with
    the reason, in clinic/settings.py). Celery turns warnings into log records of "py.warnings" and makes its own
    warnings always shown, after this module is imported, so a logging filter is the one that holds."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "worker_cancel_long_running_tasks_on_connection_loss" not in record.getMessage()


logging.getLogger("py.warnings").addFilter(ChosenSettingReminderDropped())
