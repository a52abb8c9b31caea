"""A bare Django project, the reference every page of the site is measured against (bench/run.py).

What `django-admin startproject` would give, minus the admin: Django's default middleware, one view that
returns "ok", DEBUG off. It shares nothing with the site; it runs under the same gunicorn command line.
"""
