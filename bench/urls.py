"""The site's URLs plus a bare view, behind the same middleware as every page: the baseline an article page's
throughput is compared with (bench/run.py)."""

from django.http import HttpResponse
from django.urls import path

from clinic.urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse("ok")


urlpatterns = [*site_urlpatterns, path("bench/bare/", bare, name="bench_bare")]
