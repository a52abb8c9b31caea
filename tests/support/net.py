import socket
import time
from collections.abc import Callable

from requests.adapters import HTTPAdapter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll until condition() is truthy and return its value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one loopback address of the patient's own (127.0.0.0/8 is all this machine's), so the
    proxy's per-client limits see N patients, not one client sending N patients' requests."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)
