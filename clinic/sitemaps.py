from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from clinic.articles.selectors import articles_published


class _SiteUrlSitemap(Sitemap):
    """Addresses built from settings.SITE_URL, like the pages' canonical links, not from the request's host."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class PageSitemap(_SiteUrlSitemap):
    def items(self):
        return ["home", "article_list", "callbacks:request"]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(_SiteUrlSitemap):
    def items(self):
        return articles_published()

    def lastmod(self, article):
        return article.updated_at


SITEMAPS = {"pages": PageSitemap, "articles": ArticleSitemap}
