import datetime as dt
import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from callbacks.admin.forms import SIGN_IN_FAILED
from callbacks.models import Notification
from callbacks.notifications.delivery import notification_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
ROOT = Path(__file__).resolve().parents[3]


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username, password=PASSWORD, code=None):
    data = {"username": username, "password": password, "next": INDEX}
    if code is not None:
        data["otp_token"] = code
    return client.post(LOGIN, data)


@pytest.fixture
def staff():
    return UserFactory(username="fran", is_superuser=True)


# Lockout after repeated failures (django-axes)


def test_sign_in_is_locked_after_the_failure_limit(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        response = sign_in(client, "fran", password="wrong password")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    locked = sign_in(client, "fran", password="wrong password")
    assert locked.status_code == 429
    # Even the right password is refused while the lock lasts.
    response = sign_in(client, "fran")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert client.get(INDEX).status_code == 302


def test_lock_is_per_user_name(settings, staff):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="colleague", is_superuser=True)
    client = Client()
    for _ in range(2):
        sign_in(client, "fran", password="wrong password")
    assert sign_in(client, "fran").status_code == 429
    assert sign_in(client, "colleague").status_code == 302


def test_success_before_the_limit_resets_the_count(settings, staff):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        sign_in(client, "fran", password="wrong password")
    assert sign_in(client, "fran").status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, "fran", password="wrong password")
    assert sign_in(client, "fran").status_code == 302


def test_lockout_counts_the_address_the_proxy_saw_not_the_proxy(settings, staff):
    """Behind one proxy every connection comes from the proxy: axes must key on the client it forwarded."""
    settings.CLINIC_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5
    stranger = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(5):
        sign_in(stranger, "fran", password="wrong password")
    assert sign_in(stranger, "fran").status_code == 429
    # The real member of staff, through the same proxy from another address, is not locked out.
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert sign_in(colleague, "fran").status_code == 302
    assert colleague.get(INDEX).status_code == 200
    # A spoofed entry in front of the proxy's own does not choose the address either.
    spoofing = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.66")
    assert sign_in(spoofing, "fran").status_code == 429


def test_lockout_counts_an_ipv6_client_by_its_64(settings, staff):
    """Each of a /64's addresses would otherwise get its own AXES_FAILURE_LIMIT tries."""
    settings.AXES_FAILURE_LIMIT = 3
    for host in range(1, 4):
        sign_in(Client(REMOTE_ADDR=f"2001:db8:1:2::{host}"), "fran", password="wrong password")
    assert sign_in(Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"), "fran").status_code == 429
    neighbour = Client(REMOTE_ADDR="2001:db8:1:3::1")
    assert sign_in(neighbour, "fran").status_code == 302


# Two-factor sign-in (django-otp TOTP)


@pytest.fixture
def two_factor(settings):
    settings.ADMIN_REQUIRE_2FA = True


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def test_with_2fa_a_signed_in_but_unverified_user_is_refused(two_factor, staff, device):
    client = Client()
    client.force_login(staff)
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:callbacks_callbackrequest_changelist")).status_code == 302


def test_with_2fa_password_alone_is_not_enough(two_factor, staff, device):
    client = Client()
    response = sign_in(client, "fran")
    assert response.status_code == 200
    assert SIGN_IN_FAILED in response.content.decode()
    assert client.get(INDEX).status_code == 302


def test_with_2fa_a_wrong_code_is_refused(two_factor, staff, device):
    client = Client()
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = sign_in(client, "fran", code=wrong)
    assert response.status_code == 200
    assert SIGN_IN_FAILED in response.content.decode()
    assert client.get(INDEX).status_code == 302


def test_with_2fa_the_right_code_lets_staff_in(two_factor, staff, device):
    client = Client()
    response = sign_in(client, "fran", code=current_code(device))
    assert response.status_code == 302
    assert response["Location"] == INDEX
    page = client.get(INDEX)
    assert page.status_code == 200
    assert "The day at a glance" in page.content.decode()


def wrong_code(device) -> str:
    return f"{(int(current_code(device)) + 1) % 1_000_000:06d}"


def sign_in_failure_page(response) -> str:
    """What the page says about the failure, and the form as shown again (the CSRF token aside)."""
    html = response.content.decode()
    notes = re.findall(r'<p class="errornote"[^>]*>(.*?)</p>', html, re.S)
    form = re.search(r"<form action=.*?</form>", html, re.S).group(0)
    return "\n".join(notes) + re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", form)


def test_with_2fa_every_failure_reads_the_same(two_factor, staff, device):
    """A stranger must not learn that a password was right from the answer to a wrong or missing code."""
    UserFactory(username="nodevice", is_superuser=True)
    attempts = {
        "unknown user": ("nobody", "wrong password", "123456"),
        "wrong password": ("fran", "wrong password", wrong_code(device)),
        "wrong password, no code": ("fran", "wrong password", None),
        "right password, wrong code": ("fran", PASSWORD, wrong_code(device)),
        "right password, no code": ("fran", PASSWORD, None),
        "right password, no authenticator": ("nodevice", PASSWORD, "123456"),
    }
    pages = {}
    for what, (username, password, code) in attempts.items():
        response = sign_in(Client(), username, password=password, code=code)
        assert response.status_code == 200, what
        assert SIGN_IN_FAILED in response.content.decode(), what
        assert PASSWORD not in response.content.decode(), what
        pages[what] = sign_in_failure_page(response).replace(f'value="{username}"', 'value="?"')
    assert len(set(pages.values())) == 1, pages


class Clock:
    """The time django-otp's throttle reads (the codes themselves still follow the real clock)."""

    def __init__(self):
        self.current = timezone.now()

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)


@pytest.fixture
def otp_clock():
    clock = Clock()
    with mock.patch("django_otp.models.timezone.now", clock.now):
        yield clock


def test_with_2fa_wrong_codes_count_like_wrong_passwords_per_address(two_factor, settings, staff, device, otp_clock):
    settings.AXES_FAILURE_LIMIT = 3
    stranger = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(2):
        assert sign_in(stranger, "fran", code=wrong_code(device)).status_code == 200
    assert sign_in(stranger, "fran", code=wrong_code(device)).status_code == 429
    # Locked from that address: even the right code is refused there.
    otp_clock.advance(3600)
    assert sign_in(stranger, "fran", code=current_code(device)).status_code == 429
    # The real member of staff, elsewhere, signs in (once the account's short slowdown has passed).
    colleague = Client(REMOTE_ADDR="203.0.113.7")
    assert sign_in(colleague, "fran", code=current_code(device)).status_code == 302
    assert colleague.get(INDEX).status_code == 200


def test_with_2fa_the_issues_guess_from_many_addresses_is_refused(two_factor, settings, staff, device, otp_clock):
    """Issue 27: 80 wrong codes from 20 addresses (4 each, under the per-address lockout), then the right code
    from a 21st address signed in. The account's own count of wrong codes now refuses it."""
    settings.AXES_FAILURE_LIMIT = 5
    for address in range(1, 21):
        for _ in range(4):
            assert (
                sign_in(Client(REMOTE_ADDR=f"198.51.100.{address}"), "fran", code=wrong_code(device)).status_code == 200
            )
    client = Client(REMOTE_ADDR="203.0.113.21")
    response = sign_in(client, "fran", code=current_code(device))
    assert response.status_code == 200
    assert SIGN_IN_FAILED in response.content.decode()
    assert client.get(INDEX).status_code == 302


def test_with_2fa_wrong_codes_from_any_address_slow_the_account_down_and_do_not_lock_it(
    two_factor, settings, staff, device, otp_clock
):
    """Each wrong code, from whatever address, doubles the wait before the account's next code is checked; the
    right code after the wait signs in (a slowdown, not a lock)."""
    settings.AXES_FAILURE_LIMIT = 5
    for address in range(1, 11):
        otp_clock.advance(2**address)  # each after the previous wait: every one is checked and counted
        sign_in(Client(REMOTE_ADDR=f"198.51.100.{address}"), "fran", code=wrong_code(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 10
    owner = Client(REMOTE_ADDR="203.0.113.7")
    otp_clock.advance(2**9 - 5)
    assert sign_in(owner, "fran", code=current_code(device)).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 10, "a code sent during the wait is neither checked nor counted"
    otp_clock.advance(5)
    assert sign_in(owner, "fran", code=current_code(device)).status_code == 302
    assert owner.get(INDEX).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_2fa_simultaneous_guesses_are_checked_one_at_a_time(two_factor, settings, staff, device):
    """Guesses sent at the same moment from many addresses must not all be checked against one stale count:
    the first is checked, the others find its wrong code counted and wait. The device row is loaded for update
    (django-otp's ``for_verify``); loaded without, all six are checked. (Each check is slowed down here so that
    the guesses overlap.)"""
    settings.AXES_FAILURE_LIMIT = 5
    checked = []
    check = TOTPDevice.verify_token

    def slow_check(self, token):
        checked.append(token)
        time.sleep(1.5)
        return check(self, token)

    barrier = threading.Barrier(6)

    def guess(address: int):
        try:
            barrier.wait(timeout=10)
            sign_in(Client(REMOTE_ADDR=f"198.51.100.{address}"), "fran", code=wrong_code(device))
        finally:
            connection.close()

    with mock.patch.object(TOTPDevice, "verify_token", slow_check):
        threads = [threading.Thread(target=guess, args=(address,)) for address in range(1, 7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(checked) == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_with_2fa_a_stranger_without_the_password_cannot_slow_the_real_user_down(
    two_factor, settings, staff, device, otp_clock
):
    """Codes are checked only after the right password: wrong passwords never touch the account's code count."""
    settings.AXES_FAILURE_LIMIT = 5
    for address in range(1, 13):
        sign_in(Client(REMOTE_ADDR=f"198.51.100.{address}"), "fran", password="guess", code=wrong_code(device))
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    client = Client(REMOTE_ADDR="203.0.113.7")
    response = sign_in(client, "fran", code=current_code(device))
    assert response.status_code == 302, sign_in_failure_page(response)
    assert client.get(INDEX).status_code == 200


def alerts() -> list[Notification]:
    return list(Notification.objects.filter(kind=Notification.Kind.STAFF_SIGN_IN_ALERT).order_by("recipient"))


def test_with_2fa_the_owner_and_the_administrators_hear_of_wrong_codes_once_per_burst(
    two_factor, settings, staff, device, otp_clock, django_capture_on_commit_callbacks
):
    settings.ADMIN_2FA_ALERT_AFTER = 3
    staff.email = "fran@clinic.test"
    staff.save()
    UserFactory(username="boss", is_superuser=True, email="boss@clinic.test")
    UserFactory(username="gone", is_superuser=True, is_active=False, email="gone@clinic.test")
    UserFactory(username="desk", email="desk@clinic.test")  # staff, not an administrator

    def wrong_from(address: int):
        otp_clock.advance(3600)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            sign_in(Client(REMOTE_ADDR=f"198.51.100.{address}"), "fran", code=wrong_code(device))
        return queued

    for address in (1, 2):
        wrong_from(address)
    assert alerts() == []
    queued = wrong_from(3)
    assert [n.recipient for n in alerts()] == ["boss@clinic.test", "fran@clinic.test"]
    assert {n.staff_user_id for n in alerts()} == {staff.pk}
    assert len(queued) == 1  # the rows are queued once the sign-in's transaction commits
    # Neither the codes sent during the wait nor the next failures of the same burst write another alert.
    for _ in range(3):
        sign_in(Client(REMOTE_ADDR="198.51.100.4"), "fran", code=wrong_code(device))
    for address in (5, 6):
        wrong_from(address)
    assert len(alerts()) == 2

    for notification in alerts():
        assert notification_send(notification_id=notification.pk) == Notification.Status.SENT
    owner_mail = next(message for message in mail.outbox if message.to == ["fran@clinic.test"])
    assert "fran" in owner_mail.subject
    assert "3 wrong codes" in owner_mail.body
    for message in mail.outbox:
        for private in ("198.51.100", PASSWORD, device.key):
            assert private not in message.body + message.subject
    # A right code ends the burst; the next burst is told again.
    otp_clock.advance(3600 * 24)
    assert sign_in(Client(REMOTE_ADDR="203.0.113.7"), "fran", code=current_code(device)).status_code == 302
    for address in (7, 8, 9):
        wrong_from(address)
    assert len(alerts()) == 4


def test_with_2fa_an_account_without_authenticator_is_told_what_to_do(two_factor, staff):
    response = sign_in(Client(), "fran", code="123456")
    assert "staff_totp_enrol" in response.content.decode()


def test_login_page_asks_for_the_code_only_when_2fa_is_on(settings):
    settings.ADMIN_REQUIRE_2FA = False
    assert 'name="otp_token"' not in Client().get(LOGIN).content.decode()
    settings.ADMIN_REQUIRE_2FA = True
    html = Client().get(LOGIN).content.decode()
    assert 'name="otp_token"' in html
    assert 'autocomplete="one-time-code"' in html
    assert '<label for="id_otp_token">Code from your authenticator app:</label>' in html


def test_without_2fa_password_is_enough(settings, staff):
    settings.ADMIN_REQUIRE_2FA = False
    client = Client()
    assert sign_in(client, "fran").status_code == 302
    assert client.get(INDEX).status_code == 200


def test_2fa_is_on_by_default_in_production_and_off_with_debug():
    code = "from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)"
    base = {k: v for k, v in os.environ.items() if k not in ("ADMIN_REQUIRE_2FA", "DJANGO_DEBUG", "DATABASE_URL")}
    base["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    production = {**base, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "a.test"}
    local = {**base, "DJANGO_DEBUG": "true"}

    def setting(env):
        run = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip().splitlines()[-1]

    assert setting(production) == "True"
    assert setting(local) == "False"
    assert setting({**local, "ADMIN_REQUIRE_2FA": "true"}) == "True"


# Enrolling an authenticator


def test_enrol_command_creates_a_device_and_prints_the_link(staff):
    out = io.StringIO()
    call_command("staff_totp_enrol", "fran", stdout=out)
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    text = out.getvalue()
    assert device.config_url in text
    assert text.count("otpauth://totp/") == 1
    assert "█" in text  # the QR code


def test_enrolled_code_opens_the_admin(settings, staff):
    settings.ADMIN_REQUIRE_2FA = True
    call_command("staff_totp_enrol", "fran", "--no-qr", stdout=io.StringIO())
    client = Client()
    assert sign_in(client, "fran", code=current_code(TOTPDevice.objects.get(user=staff))).status_code == 302
    assert client.get(INDEX).status_code == 200


def test_enrol_refuses_to_replace_silently(staff, device):
    with pytest.raises(CommandError, match="--replace"):
        call_command("staff_totp_enrol", "fran", stdout=io.StringIO())
    call_command("staff_totp_enrol", "fran", "--if-missing", stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    call_command("staff_totp_enrol", "fran", "--replace", "--no-qr", stdout=io.StringIO())
    assert list(TOTPDevice.objects.filter(user=staff)) != [device]
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_enrol_refuses_unknown_and_non_staff_accounts():
    UserFactory(username="patient", is_staff=False)
    with pytest.raises(CommandError, match="No account"):
        call_command("staff_totp_enrol", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a staff account"):
        call_command("staff_totp_enrol", "patient", stdout=io.StringIO())
