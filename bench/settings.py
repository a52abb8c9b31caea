"""The production settings plus a bench-only URL: a bare view to compare the site's pages against.

Only bench/run.py uses this module (DJANGO_SETTINGS_MODULE=bench.settings); the site never does.
"""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
