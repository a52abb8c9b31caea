"""A real SMTP server on loopback (aiosmtpd) that records what it receives and can be told to fail."""

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from tests.support.net import free_port


@dataclass
class RecordingHandler:
    fail_first: int = 0  # answer the first N messages with a temporary failure (451)
    fail_always: bool = False  # answer every message with a permanent failure (550)
    delay_seconds: float = 0.0
    messages: list = field(default_factory=list)
    received_at: list = field(default_factory=list)  # time.time() each accepted message's data arrived, in order
    attempts: int = 0
    started: int = 0  # DATA commands received, before any delay
    abandoned: int = 0  # messages whose client hung up before the reply: not accepted, as a real server would
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        arrived = time.time()
        with self._lock:
            self.started += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
            if server.transport is None or server.transport.is_closing():
                with self._lock:
                    self.abandoned += 1
                return "421 4.4.2 Connection lost"
        with self._lock:
            self.attempts += 1
            if self.fail_always:
                return "550 5.1.1 Mailbox unavailable"
            if self.attempts <= self.fail_first:
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)
            self.received_at.append(arrived)
        return "250 OK"


class SmtpServer:
    def __init__(self, **handler_options):
        self.handler = RecordingHandler(**handler_options)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list:
        with self.handler._lock:
            return list(self.handler.messages)

    @property
    def arrivals(self) -> list[tuple[float, object]]:
        """(received-at wall-clock time, message) for every accepted message, in order."""
        with self.handler._lock:
            return list(zip(self.handler.received_at, self.handler.messages, strict=True))

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
