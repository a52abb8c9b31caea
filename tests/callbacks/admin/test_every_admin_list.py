"""Every list of the admin, the clinic's own and those of django-otp, django-axes, django.contrib.auth and the
articles, accepts only the lookups its filters offer (issue 27, item 8), and an authenticator's key is never
shown or searchable."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.admin_lookups import OfferedLookupsOnlyMixin
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def changelists() -> list[str]:
    return sorted(f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry)


@pytest.fixture
def device(admin_user):
    return TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)


def test_every_registered_admin_has_the_lookup_allow_list():
    missing = [
        f"{model._meta.label}: {type(model_admin).__name__}"
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, OfferedLookupsOnlyMixin)
    ]
    assert missing == []
    # The third-party lists the review named are among them.
    for name in ("otp_totp_totpdevice", "axes_accessattempt", "axes_accesslog", "auth_user", "auth_group"):
        assert name in changelists()
    assert "clinic_article" in changelists()


@pytest.mark.parametrize("name", changelists())
def test_every_list_refuses_a_lookup_it_does_not_offer(admin_client, name, device):
    changelist = reverse(f"admin:{name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    # A broken regular expression on the primary key: a database error (500) when the lookup reaches a query.
    assert admin_client.get(f"{changelist}?id__regex=%5B").status_code == 400
    assert admin_client.get(f"{changelist}?id__gte=0").status_code == 400


@pytest.mark.parametrize("name", changelists())
def test_every_list_answers_its_own_filters_with_bad_values_without_a_server_error(admin_client, name, device):
    """A filter the list offers, given a value it cannot use: the list again (with its "e=1" notice) or a 400."""
    model_admin = next(
        ma for model, ma in admin.site._registry.items() if f"{model._meta.app_label}_{model._meta.model_name}" == name
    )
    request = admin_client.get(reverse(f"admin:{name}_changelist")).wsgi_request
    for lookup in sorted(model_admin.offered_lookups(request)):
        for value in ("%5B", "not-a-date", "-1"):
            response = admin_client.get(f"{reverse(f'admin:{name}_changelist')}?{lookup}={value}")
            assert response.status_code in {200, 302, 400}, (lookup, value)


def test_the_authenticator_list_cannot_be_searched_by_key(admin_client, device):
    changelist = reverse("admin:otp_totp_totpdevice_changelist")
    first = device.key[0]
    for query in (f"key__startswith={first}", f"key={device.key}", f"key__regex=%5E{first}"):
        assert admin_client.get(f"{changelist}?{query}").status_code == 400, query
    # The list's own filters still work.
    assert admin_client.get(f"{changelist}?confirmed__exact=1").status_code == 200


def test_the_user_list_cannot_be_searched_by_password_hash(admin_client):
    changelist = reverse("admin:auth_user_changelist")
    for query in ("password__startswith=pbkdf2", "password__regex=%5E.", "groups__permissions__codename=x"):
        assert admin_client.get(f"{changelist}?{query}").status_code == 400, query
    assert admin_client.get(f"{changelist}?is_superuser__exact=1").status_code == 200


def test_an_authenticators_key_is_shown_nowhere_in_the_admin(admin_client, device):
    pages = {
        "list": reverse("admin:otp_totp_totpdevice_changelist"),
        "page": reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        "history": reverse("admin:otp_totp_totpdevice_history", args=[device.pk]),
    }
    for what, url in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, what
        html = response.content.decode()
        assert device.key not in html, what
        assert 'name="key"' not in html, what
        assert device.config_url not in html, what
    # No QR code or configuration page, and no add form that would show a new key.
    for url in (f"{pages['page']}config/", f"{pages['page']}qrcode/"):
        assert admin_client.get(url).status_code in {302, 403, 404}, url
    add = admin_client.get(reverse("admin:otp_totp_totpdevice_add"))
    assert add.status_code == 403
    # Editing a device through its page does not change its key.
    page = admin_client.get(pages["page"]).content.decode()
    assert not re.search(r'name="key"', page)


def test_the_lists_still_show_their_rows(admin_client, device):
    Group.objects.create(name="Triage staff (test)")
    UserFactory(username="colleague", is_staff=True)
    users = admin_client.get(reverse("admin:auth_user_changelist") + "?is_staff__exact=1")
    assert users.status_code == 200
    assert "colleague" in users.content.decode()
    groups = admin_client.get(reverse("admin:auth_group_changelist") + "?q=Triage")
    assert "Triage staff (test)" in groups.content.decode()
    devices = Client()
    devices.force_login(device.user)
    assert "phone" in devices.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
