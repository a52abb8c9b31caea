"""Every public page, in every state a patient can reach, is valid HTML (the Nu HTML Checker, errors only)."""

import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from clinic.models import Article
from clinic.ratelimit import too_many_requests
from tests.browser.tools import html_errors
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def busy_page(settings):
    """The first page asked for by a new visitor while the site is far behind (clinic/admission.py)."""
    settings.CLINIC_PROXY_COUNT = 1
    return Client().get(reverse("callbacks:request"), HTTP_X_REQUEST_START=f"t={time.time() - 5:.3f}")


def test_public_pages_are_valid_html(client, rf, vnu, tmp_path, settings):
    call_command("load_articles", verbosity=0)
    pages = {
        "home": reverse("home"),
        "article list": reverse("article_list"),
        "search with results": reverse("article_search") + "?q=stretch",
        "search without results": reverse("article_search") + "?q=zzzznothing",
        "search with markup": reverse("article_search") + "?q=%3Cb%3Eheat%3C%2Fb%3E",
        "safety questions": reverse("callbacks:request"),
        "privacy notice": reverse("callbacks:privacy"),
        **{f"article {a.slug}": a.get_absolute_url() for a in Article.objects.published()},
    }
    documents = {}
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, name
        documents[name] = response.content.decode()
    rejected = client.post(reverse("callbacks:request"), {})
    assert rejected.status_code == 200
    documents["safety questions with errors"] = rejected.content.decode()
    details = complete_questionnaire(client)
    documents["contact details"] = client.get(details).content.decode()
    rejected = client.post(details, form_data(phone="12", preferred_date="2001-01-01", consent=""))
    assert rejected.status_code == 200
    documents["contact details with errors"] = rejected.content.decode()
    documents["too many requests"] = too_many_requests(rf.get("/")).content.decode()
    too_big = client.post(reverse("callbacks:request"), {"reason": "x" * 300_000})
    assert too_big.status_code == 413
    documents["too much to send"] = too_big.content.decode()
    busy = busy_page(settings)
    assert busy.status_code == 503
    documents["busy"] = busy.content.decode()

    assert html_errors(documents, tmp_path) == {}
