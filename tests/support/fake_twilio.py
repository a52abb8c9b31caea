"""A fake of Twilio's Messages API on loopback, for the real `twilio` SDK to talk to (TWILIO_API_BASE_URL).

It answers what our adapter uses, in Twilio's own shapes: POST .../Accounts/{sid}/Messages.json (form-encoded,
HTTP basic auth with the account sid and auth token), GET .../Messages.json (the list, newest first, filtered by To
and From) and GET .../Messages/{sid}.json. It records every message it took, and can be told to fail:

- ``fail_next``: answer the next N creates with 500 (nothing taken);
- ``hang_next``: take the next N creates, then hold the answer for ``hang_seconds`` (past the client's timeout),
  so the client cannot tell whether the message went;
- ``delay_seconds``: answer every request this much later (slow, but within the timeout);
- ``unsubscribed``: numbers that sent STOP: creates to them get Twilio's 400 with error 21610.

Run it on its own for a worker in another process: ``python -m tests.support.fake_twilio PORT``.
"""

import base64
import contextlib
import email.utils
import json
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.support.net import free_port

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
FROM_NUMBER = "+15005550006"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass
class FakeTwilioState:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    fail_next: int = 0
    hang_next: int = 0
    hang_seconds: float = 30.0
    delay_seconds: float = 0.0
    unsubscribed: set = field(default_factory=set)
    messages: list = field(default_factory=list)  # every message taken, oldest first (dicts, Twilio's fields)
    creates: int = 0  # POSTs that reached the fake (taken or not)
    lists: int = 0  # GETs of the list
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies_to(self, number: str) -> list[str]:
        with self.lock:
            return [message["body"] for message in self.messages if message["to"] == number]


def _rfc2822(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTwilio/1"
    state: FakeTwilioState

    def log_message(self, format, *args):
        pass

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up (a timeout) or been killed: a message taken stays taken all the same.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _error(self, status: int, code: int, message: str) -> None:
        self._reply(status, {"code": code, "message": message, "more_info": "", "status": status})

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.state.account_sid}:{self.state.auth_token}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._error(401, 20003, "Authenticate")
            return False
        return True

    def _path_parts(self) -> list[str] | None:
        parts = urlparse(self.path).path.strip("/").split("/")
        if len(parts) < 4 or parts[:2] != ["2010-04-01", "Accounts"] or parts[2] != self.state.account_sid:
            self._error(404, 20404, "The requested resource was not found")
            return None
        return parts[3:]

    def do_POST(self):
        if self.state.delay_seconds:
            time.sleep(self.state.delay_seconds)
        if not self._authorised() or (parts := self._path_parts()) is None:
            return
        if parts != ["Messages.json"]:
            return self._error(404, 20404, "The requested resource was not found")
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        state = self.state
        with state.lock:
            state.creates += 1
            if state.fail_next:
                state.fail_next -= 1
                fail = True
            else:
                fail = False
        if fail:
            return self._error(500, 20500, "Internal Server Error")
        to = form.get("To", "")
        if not E164.match(to):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("Body"):
            return self._error(400, 21602, "Message body is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(400, 21603, "The 'From' phone number is required.")
        if to in state.unsubscribed:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        now = time.time()
        sid = "SM" + secrets.token_hex(16)
        message = {
            "sid": sid,
            "account_sid": state.account_sid,
            "api_version": "2010-04-01",
            "to": to,
            "from": form.get("From") or FROM_NUMBER,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "date_created": _rfc2822(now),
            "date_updated": _rfc2822(now),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
            # Not in Twilio's answer; kept so tests can see what was asked.
            "_status_callback": form.get("StatusCallback", ""),
        }
        with state.lock:
            state.messages.append(message)
            hang = state.hang_next > 0
            if hang:
                state.hang_next -= 1
        if hang:
            time.sleep(state.hang_seconds)
        self._reply(201, _public(message))

    def do_GET(self):
        if self.state.delay_seconds:
            time.sleep(self.state.delay_seconds)
        if not self._authorised() or (parts := self._path_parts()) is None:
            return
        state = self.state
        if parts == ["Messages.json"]:
            query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
            with state.lock:
                state.lists += 1
                found = [
                    _public(message)
                    for message in reversed(state.messages)
                    if message["to"] == query.get("To", message["to"])
                    and message["from"] == query.get("From", message["from"])
                ]
            size = int(query.get("PageSize", 50))
            page = found[:size]
            uri = f"/2010-04-01/Accounts/{state.account_sid}/Messages.json"
            return self._reply(
                200,
                {
                    "messages": page,
                    "first_page_uri": uri,
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "page": 0,
                    "page_size": size,
                    "start": 0,
                    "end": max(len(page) - 1, 0),
                    "uri": uri,
                },
            )
        if len(parts) == 2 and parts[0] == "Messages" and parts[1].endswith(".json"):
            sid = parts[1].removesuffix(".json")
            with state.lock:
                match = next((message for message in state.messages if message["sid"] == sid), None)
            if match is None:
                return self._error(404, 20404, "The requested resource was not found")
            return self._reply(200, _public(match))
        return self._error(404, 20404, "The requested resource was not found")


def _public(message: dict) -> dict:
    return {key: value for key, value in message.items() if not key.startswith("_")}


class FakeTwilio:
    """The fake on a free loopback port, in a thread of this process: ``with FakeTwilio() as fake: fake.url``."""

    def __init__(self, port: int | None = None, **state_options):
        self.state = FakeTwilioState(**state_options)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def messages(self) -> list:
        with self.state.lock:
            return list(self.state.messages)

    def __enter__(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    fake = FakeTwilio(port=int(sys.argv[1]))
    fake.thread.start()
    print(f"fake Twilio on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.__exit__(None, None, None)
