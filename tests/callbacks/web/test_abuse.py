"""Public forms against robots and floods: a honeypot, and rate limits per address and per phone number."""

import re

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest
from clinic.cache import FailOpenRedisCache
from clinic.ratelimit import client_address, client_network, rate_limit_exceeded
from clinic.rates import Rate
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire

pytestmark = pytest.mark.django_db


def test_a_filled_honeypot_saves_nothing_and_says_to_call(client, settings):
    response = client.post(complete_questionnaire(client), form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert f"Please call us on {settings.CLINIC_PHONE}" in response.content.decode()
    assert CallbackRequest.objects.count() == 0


def test_the_honeypot_is_out_of_sight_and_out_of_the_tab_order(client):
    html = client.get(complete_questionnaire(client)).content.decode()
    assert 'class="form-honeypot"' in html or "form-honeypot" in html
    assert 'name="website"' in html and 'tabindex="-1"' in html


def test_too_many_requests_from_one_address_get_the_429_page_and_save_nothing_more(client, settings):
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(2, 3600)
    for n in range(2):
        assert client.post(complete_questionnaire(client), form_data(phone=f"07400 12345{n}")).status_code == 302
    details = complete_questionnaire(client)
    response = client.post(details, form_data(phone="07400 123459"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "We could not take your request online just now" in html
    assert settings.CLINIC_PHONE in html
    # When to try again: the end of the limit's hour, in the clinic's time.
    assert re.search(r'id="retry-at">Or try again online after <strong>\w+ \d+ \w+, \d\d:00</strong>', html)
    assert CallbackRequest.objects.count() == 2
    # The answers are kept: the same page sent again once the hour is over stores the request.
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(3, 3600)
    assert client.post(details, form_data(phone="07400 123459")).status_code == 302
    assert CallbackRequest.objects.count() == 3


def test_forms_sent_back_with_mistakes_never_count_against_the_limits(client, settings):
    """Issue 14: five rejected submissions and five valid ones from one address; the sixth valid one still goes."""
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(6, 3600)
    for n in range(5):
        details = complete_questionnaire(client)
        assert client.post(details, form_data(phone="12")).status_code == 200  # a mistake, shown by the field
        assert client.post(details, form_data(phone=f"07400 12345{n}")).status_code == 302
    assert client.post(complete_questionnaire(client), form_data(phone="07400 123459")).status_code == 302
    assert CallbackRequest.objects.count() == 6


def test_a_refused_urgent_patient_is_shown_see_a_doctor_today(client, settings):
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(1, 3600)
    assert client.post(complete_questionnaire(client), form_data(phone="07400 123450")).status_code == 302
    urgent = complete_questionnaire(client, {"health": {"fever": "yes"}})
    refused = client.post(urgent, form_data(phone="07400 123451"))
    assert refused.status_code == 429
    assert "See a doctor today" in refused.content.decode()


def test_too_many_requests_for_one_phone_number_are_refused_from_any_address(client, settings):
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE = Rate(1, 86400)
    assert client.post(complete_questionnaire(client), form_data(phone="07400 123456")).status_code == 302
    # The same number typed another way, from another address.
    again = client.post(complete_questionnaire(client), form_data(phone="+44 7400 123456"), REMOTE_ADDR="198.51.100.7")
    assert again.status_code == 429
    assert CallbackRequest.objects.count() == 1


def test_questionnaire_posts_are_limited_per_address(client, settings):
    settings.CLINIC_RATE_LIMIT_FORM_POSTS = Rate(3, 60)
    statuses = [client.post(reverse("callbacks:request"), {}).status_code for _ in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is anyone's to forge
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged first entry is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(rf, settings, proxies, forwarded, expected):
    settings.CLINIC_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:DB8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client on a dual-stack socket
        ("fe80::1%eth0", "fe80::"),
        ("not an address", "not an address"),
    ],
)
def test_limits_count_an_ipv6_client_by_its_64(rf, settings, address, counted):
    """One IPv6 host is given a whole /64: counting each of its addresses apart would give it endless tries."""
    settings.CLINIC_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=address)
    assert client_network(request) == counted


def test_requests_from_one_64_share_one_limit(client, settings):
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(1, 3600)
    first = client.post(complete_questionnaire(client), form_data(phone="07400 123450"), REMOTE_ADDR="2001:db8:7::1")
    assert first.status_code == 302
    again = client.post(complete_questionnaire(client), form_data(phone="07400 123451"), REMOTE_ADDR="2001:db8:7::2:1")
    assert again.status_code == 429
    elsewhere = client.post(
        complete_questionnaire(client), form_data(phone="07400 123452"), REMOTE_ADDR="2001:db8:8::1"
    )
    assert elsewhere.status_code == 302


def test_form_posts_from_one_64_share_one_limit(client, settings):
    settings.CLINIC_RATE_LIMIT_FORM_POSTS = Rate(3, 60)
    statuses = [
        client.post(reverse("callbacks:request"), {}, REMOTE_ADDR=f"2001:db8:7::{n}").status_code for n in range(1, 5)
    ]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    assert client.post(reverse("callbacks:request"), {}, REMOTE_ADDR="2001:db8:9::1").status_code != 429


@pytest.mark.parametrize("text", ["10", "0/h", "ten/h", "5/week", "-1/m", ""])
def test_a_malformed_rate_is_a_configuration_error(text):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        Rate.parse(text)


def test_rates_read_per_minute_hour_and_day():
    assert [Rate.parse(t) for t in ("5/m", "10/h", "3/d")] == [Rate(5, 60), Rate(10, 3600), Rate(3, 86400)]


@pytest.mark.redis
def test_counts_are_shared_between_web_processes_through_redis(monkeypatch):
    """Two processes' caches on the same Redis see one count: a flood cannot hide by landing on other workers."""
    from clinic import ratelimit

    first, second = (FailOpenRedisCache("redis://127.0.0.1:6379/13", {}) for _ in range(2))
    first.clear()
    rate = Rate(3, 3600)
    outcomes = []
    for cache in (first, second, first, second):
        monkeypatch.setattr(ratelimit, "cache", cache)
        outcomes.append(rate_limit_exceeded(scope="test", identity="203.0.113.9", rate=rate))
    assert outcomes == [False, False, False, True]
    keys = first._cache.get_client().keys("*ratelimit*")
    assert keys and all(b"203.0.113.9" not in key for key in keys), "no address in the cache keys"
    first.clear()
