import pytest
from django.core.cache import cache

from clinic.articles.loading import ARTICLES_DIR, articles_load_from_folder


@pytest.fixture(autouse=True)
def _empty_cache():
    """The in-memory cache outlives each test's rolled-back database: start every test without stale pages."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def articles(db):
    """The repository's articles, loaded as a deploy loads them."""
    articles_load_from_folder(ARTICLES_DIR)
    from clinic.models import Article

    return list(Article.objects.order_by("order"))
