"""`make run`'s command passes its address to the worker, beat and web server, so that links in e-mails lead
to the server that is running."""

import io
import subprocess

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(monkeypatch, settings, tmp_path):
    """The environment each child process would start with (nothing is started)."""
    settings.VAR_DIR = tmp_path
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    environments = []

    def child(*args, env=None, **kwargs):
        environments.append(env)
        return mock_child

    mock_child = type("Child", (), {"send_signal": lambda self, sig: None, "wait": lambda self, timeout=None: 0})()
    monkeypatch.setattr(subprocess, "Popen", child)
    monkeypatch.setattr(subprocess, "run", child)
    return environments


def test_links_follow_the_address_the_site_runs_on(started, monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    call_command("runlocal", "--addrport", "127.0.0.1:8765", stdout=io.StringIO())
    assert [env["SITE_URL"] for env in started] == ["http://127.0.0.1:8765"] * 4


def test_a_site_url_the_operator_set_is_kept(started, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://clinic.example")
    call_command("runlocal", stdout=io.StringIO())
    assert [env["SITE_URL"] for env in started] == ["https://clinic.example"] * 4
