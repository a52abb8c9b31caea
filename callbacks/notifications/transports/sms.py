"""Text messages: one interface (`SmsProvider`), one adapter per provider, chosen by SMS_BACKEND.

- ``twilio``: Twilio's REST API through its own SDK (`callbacks.notifications.transports.twilio_sms`);
- ``file``: each text written to a file under SMS_FILE_PATH (var/texts for `make run`), like e-mails to var/mail;
- ``memory``: kept in `memory_outbox` (the tests' backend, like Django's locmem e-mail backend);
- ``none``: texts are switched off: routing writes none, and a text already queued fails (staff can resend it
  once a provider is set).

The provider is looked up when a text is sent, not when it was written: rows queued under one provider are sent by
whichever one is configured when the worker takes them (README, "Switching text providers").
"""

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from callbacks.notifications.transports.errors import PermanentSendError, TransientSendError
from callbacks.notifications.transports.twilio_sms import TwilioSmsProvider

BACKENDS = ("twilio", "file", "memory", "none")


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, body: str, our_message_id: str) -> str:
        """Hand one text to the provider; return the provider's id for it. Raises TransientSendError (worth trying
        again; whether the provider took the text is then unknown) or PermanentSendError (it refused it)."""

    def find_sent(self, *, to: str, body: str, our_message_id: str, since: dt.datetime) -> str | None:
        """The provider's id of a text it took earlier (same recipient and body, since ``since``), or None. Asked
        before a text whose previous attempt has no recorded outcome is sent again."""


def our_message_id(notification_id: int) -> str:
    """Our id for a text: sent along (in the status callback's address) and written in files."""
    return f"notification-{notification_id}"


class FileSmsProvider:
    """Writes each text to SMS_FILE_PATH/<our id>.json. Sending a row again rewrites its file: never two files."""

    name = "file"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, our_message_id: str) -> Path:
        return self.folder / f"{our_message_id}.json"

    def send(self, *, to: str, body: str, our_message_id: str) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            record = {
                "to": to,
                "from": settings.TWILIO_FROM_NUMBER or settings.CLINIC_NAME,
                "body": body,
                "our_message_id": our_message_id,
                "written_at": timezone.now().isoformat(),
            }
            self._path(our_message_id).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise TransientSendError(type(exc).__name__) from exc
        return f"file-{our_message_id}"

    def find_sent(self, *, to: str, body: str, our_message_id: str, since: dt.datetime) -> str | None:
        return f"file-{our_message_id}" if self._path(our_message_id).exists() else None


# What the memory backend sent, oldest first: dicts of to, body, our_message_id and provider id.
memory_outbox: list[dict] = []
_memory_lock = threading.Lock()


class MemorySmsProvider:
    name = "memory"

    def send(self, *, to: str, body: str, our_message_id: str) -> str:
        with _memory_lock:
            provider_id = f"mem-{len(memory_outbox) + 1}"
            memory_outbox.append({"to": to, "body": body, "our_message_id": our_message_id, "sid": provider_id})
        return provider_id

    def find_sent(self, *, to: str, body: str, our_message_id: str, since: dt.datetime) -> str | None:
        with _memory_lock:
            found = [text["sid"] for text in memory_outbox if text["our_message_id"] == our_message_id]
        return found[-1] if found else None


class NoSmsProvider:
    name = "none"

    def send(self, *, to: str, body: str, our_message_id: str) -> str:
        raise PermanentSendError("texts are switched off (SMS_BACKEND=none)")

    def find_sent(self, *, to: str, body: str, our_message_id: str, since: dt.datetime) -> str | None:
        return None


def sms_provider() -> SmsProvider:
    """The provider SMS_BACKEND names, built from the settings in force now."""
    backend = settings.SMS_BACKEND
    if backend == "twilio":
        return TwilioSmsProvider.from_settings()
    if backend == "file":
        return FileSmsProvider(settings.SMS_FILE_PATH)
    if backend == "memory":
        return MemorySmsProvider()
    return NoSmsProvider()


def texts_enabled() -> bool:
    return settings.SMS_BACKEND != "none"
