"""Tap-to-call (issue 24): the one filter that builds a number's tel: address, and the numbers on the site's own
pages (the footer, the home page's red box, an article's 999 box)."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from tests.callbacks.web.test_page_conventions import read

pytestmark = pytest.mark.django_db


def test_tel_href_is_e164_for_a_full_number_and_digits_for_a_short_code(settings):
    settings.CLINIC_DEFAULT_REGION = "GB"
    template = Template("{% load phone_links %}{{ a|tel_href }} {{ b|tel_href }} {{ c|tel_href }} {{ d|tel_href }}")
    rendered = template.render(Context({"a": "020 7946 0000", "b": "999", "c": "1-1-1", "d": "+1 (202) 555 0143"}))
    assert rendered == "tel:+442079460000 tel:999 tel:111 tel:+12025550143"


def test_advice_from_settings_links_the_numbers_it_names_and_stays_escaped(settings):
    settings.CLINIC_EMERGENCY_NUMBER, settings.CLINIC_URGENT_ADVICE_NUMBER = "999", "111"
    template = Template("{% load phone_links %}{{ text|tel_links }}")
    rendered = template.render(Context({"text": "Call 999 now <b>or</b> 111 for A&E (not 9999 or 0111)."}))
    assert rendered == (
        'Call <a href="tel:999">999</a> now &lt;b&gt;or&lt;/b&gt; <a href="tel:111">111</a> for A&amp;E '
        "(not 9999 or 0111)."
    )


def test_the_footer_calls_999_and_the_clinic_on_every_page(client, settings):
    settings.CLINIC_PHONE = "020 7946 0000"
    for url in (reverse("home"), reverse("article_list"), reverse("callbacks:request"), reverse("callbacks:privacy")):
        links = read(client.get(url).content.decode()).tel_links
        assert ("tel:999", "999") in links, url
        assert ("tel:+442079460000", "020 7946 0000") in links, url


def test_the_home_page_red_box_and_an_articles_999_box_call_999(client, articles):
    home = client.get(reverse("home")).content.decode()
    box = home[home.index("now or go to the nearest emergency department") - 200 :]
    assert 'href="tel:999"' in box[:400]
    article = next(article for article in articles if article.emergency_banner)
    html = client.get(article.get_absolute_url()).content.decode()
    banner = html[html.index('id="emergency-heading"') :]
    assert banner.startswith('id="emergency-heading">Call <a href="tel:999">999</a> now')
