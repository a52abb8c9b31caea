from django.contrib.sitemaps.views import sitemap
from django.urls import path
from django.views.decorators.http import require_safe

from clinic import views
from clinic.public_pages import public_page
from clinic.sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", views.article_list, name="article_list"),
    path("articles/search/", views.article_search, name="article_search"),
    path("articles/<slug:slug>/", views.article_detail, name="article_detail"),
    path("sitemap.xml", require_safe(public_page(sitemap, reads=("p",))), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
