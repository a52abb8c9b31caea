FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image; WhiteNoise serves them with far-future cache headers.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home-dir /app clinic \
 && mkdir -p /app/var && chown clinic /app/var
USER clinic
ENV DJANGO_STATIC_ROOT=/app/staticfiles CLINIC_VAR_DIR=/app/var
EXPOSE 8000
