import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from clinic.articles.cache import articles_published_cached
from clinic.articles.pages import article_page_build, article_page_published
from clinic.articles.search import SEARCH_MAX_CHARS, articles_search, search_query_clean
from clinic.models import Article
from clinic.public_pages import public_page

# The characters that could end a <script> data block early, written as JSON escapes instead.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def _canonical_url(path: str) -> str:
    return settings.SITE_URL + path


def _json_ld(data: dict) -> str:
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES))  # noqa: S308


def _article_json_ld(article: Article, canonical_url: str) -> str:
    return _json_ld(
        {
            "@context": "https://schema.org",
            "@type": "MedicalWebPage",
            "name": article.title,
            "headline": article.title,
            "description": article.summary,
            "url": canonical_url,
            "inLanguage": "en-GB",
            "lastReviewed": article.reviewed_on.isoformat(),
            "dateModified": article.updated_at.isoformat(),
            "audience": {"@type": "MedicalAudience", "audienceType": "Patient"},
            "about": {"@type": "MedicalCondition", "name": "Low back pain"},
            "publisher": {"@type": "MedicalClinic", "name": settings.CLINIC_NAME, "url": settings.SITE_URL + "/"},
        }
    )


@require_safe
@public_page
def home(request):
    return render(
        request,
        "clinic/home.html",
        {"articles": articles_published_cached(), "canonical_url": _canonical_url(reverse("home"))},
    )


@require_safe
@public_page
def article_list(request):
    return render(
        request,
        "clinic/article_list.html",
        {"articles": articles_published_cached(), "canonical_url": _canonical_url(reverse("article_list"))},
    )


@require_safe
@public_page
def article_detail(request, slug):
    # Staff may preview an unpublished article, always fresh from the database; patients get published
    # articles (kept in memory by @public_page for visitors without a session) and a 404 for anything else.
    if request.user.is_staff:
        article = Article.objects.filter(slug=slug).first()
        page = None if article is None else article_page_build(article=article)
    else:
        page = article_page_published(slug=slug)
    if page is None:
        raise Http404("No such article.")
    return _article_response(request, page)


def _article_response(request, page) -> HttpResponse:
    article = page.article
    canonical_url = _canonical_url(article.get_absolute_url())
    return render(
        request,
        "clinic/article_detail.html",
        {
            "article": article,
            "related_articles": page.related,
            "toc": [entry for entry in article.toc if entry["level"] == 2],
            "canonical_url": canonical_url,
            "json_ld": _article_json_ld(article, canonical_url),
        },
    )


@require_safe
@public_page(reads=("q",))
def article_search(request):
    query = search_query_clean(request.GET.get("q", ""))
    results = list(articles_search(query=query)) if query else []
    return render(
        request,
        "clinic/article_search.html",
        {"query": query, "results": results, "query_max_chars": SEARCH_MAX_CHARS},
    )


@require_safe
@public_page
def robots_txt(request):
    body = render_to_string(
        "clinic/robots.txt",
        {
            "admin_path": "/" + settings.ADMIN_URL_PATH,
            "search_path": reverse("article_search"),
            "sitemap_url": _canonical_url(reverse("sitemap")),
        },
    )
    return HttpResponse(body, content_type="text/plain; charset=utf-8")
