import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-for-the-check-only-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "clinic.example",
    "DATABASE_URL": "sqlite:///:memory:",
}


def run_manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLINIC_RESPONSE_DEADLINES", "emergency=15m, urgent=soon", "Response deadlines: cannot read 'urgent=soon'"),
        (
            "CLINIC_RESPONSE_DEADLINES",
            "emergency=15m, urgent=2h",
            "CLINIC_RESPONSE_DEADLINES needs emergency, urgent, review and routine.",
        ),
        ("CLINIC_FOLLOW_UP_WEEKS", "2,0", "CLINIC_FOLLOW_UP_WEEKS: '0' is not a whole number of weeks (1 or more)"),
        ("CLINIC_FOLLOW_UP_WEEKS", "2,six", "CLINIC_FOLLOW_UP_WEEKS: 'six' is not a whole number of weeks"),
    ],
)
def test_a_bad_timing_setting_stops_the_start_and_names_the_fault(variable, value, message):
    result = run_manage("check", env={variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_timing_settings_are_read_as_written():
    env = {
        "CLINIC_RESPONSE_DEADLINES": "emergency=10m, urgent=1h, review=2d, routine=3d",
        "CLINIC_FOLLOW_UP_WEEKS": "6, 2",
    }
    code = (
        "from django.conf import settings; "
        "print(sorted(settings.CLINIC_RESPONSE_DEADLINES.items()), settings.CLINIC_FOLLOW_UP_WEEKS)"
    )
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    expected = "[('emergency', '10m'), ('review', '2d'), ('routine', '3d'), ('urgent', '1h')] (2, 6)"
    assert result.stdout.strip().splitlines()[-1] == expected


def test_local_defaults_are_not_hardened_and_say_so():
    result = run_manage("check", "--deploy", env={})
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on: only ever a local default


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = (ROOT / "clinic" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\("([A-Z][A-Z0-9_]+)"', settings_source)) | set(
        re.findall(r'Env\(\)\.\w+\("([A-Z][A-Z0-9_]+)"', settings_source)
    )
    if "EMAIL_URL" in settings_source:
        read.add("EMAIL_URL")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set(), "add these to .env.example"
    assert listed - read - {"POSTGRES_PASSWORD"} == set(), "these are in .env.example but not read anywhere"


def test_readme_documents_every_variable_in_env_example():
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", (ROOT / "README.md").read_text()))
    assert listed - documented == set(), "document these in the README's configuration table"


def test_follow_up_weeks_other_than_whole_weeks_of_1_or_more_stop_the_site_at_start_up():
    for refused in ("2,0", "²"):
        result = run_manage("check", env={"CLINIC_FOLLOW_UP_WEEKS": refused})
        assert result.returncode != 0, refused
        assert "CLINIC_FOLLOW_UP_WEEKS" in result.stderr
        assert "is not a whole number of weeks (1 or more)" in result.stderr, result.stderr[-500:]
    assert run_manage("check", env={"CLINIC_FOLLOW_UP_WEEKS": "1, 4"}).returncode == 0
