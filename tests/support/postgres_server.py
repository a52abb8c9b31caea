"""A PostgreSQL cluster of the test's own (Debian's postgresql-common tools), on a free port, that can be stopped
and started again without touching the machine's cluster that every other test uses."""

import shutil
import subprocess
import uuid
from pathlib import Path

from tests.conftest import service_missing
from tests.support.net import free_port

ETC = Path("/etc/postgresql")


class PostgresCluster:
    def __init__(self):
        self.port = free_port()
        self.name = f"fault{uuid.uuid4().hex[:8]}"
        versions = sorted(ETC.iterdir()) if ETC.exists() else []
        if not versions or shutil.which("pg_createcluster") is None:
            service_missing("PostgreSQL's cluster tools (pg_createcluster, Debian's postgresql-common) are missing")
        self.version = versions[-1].name

    def _run(self, *command: str) -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{' '.join(command)}: {done.stdout}{done.stderr}"

    def create(self) -> None:
        self._run(
            "pg_createcluster", self.version, self.name, "--port", str(self.port), "--start",
            "--", "--auth-local=trust", "--auth-host=trust",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctlcluster", self.version, self.name, "stop", "--mode", "fast")

    def start(self) -> None:
        self._run("pg_ctlcluster", self.version, self.name, "start")

    def drop(self) -> None:
        subprocess.run(["pg_dropcluster", "--stop", self.version, self.name], capture_output=True, timeout=120)
