"""Settings for the clinic site.

One source of truth: environment variables (see `.env.example`). The defaults run the whole site on a
fresh machine (SQLite, a file-system Celery broker, e-mail written to files). `DJANGO_DEBUG=false`
switches on production hardening and makes the secret key and allowed hosts mandatory.
"""

import re
from pathlib import Path

import environ
import holidays
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from clinic.hours import parse_opening_hours
from clinic.rates import Rate
from clinic.setting_parsers import follow_up_weeks_parse, parse_deadlines

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CLINIC_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A local `.env` is read when present; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Django

DEBUG = env.bool("DJANGO_DEBUG", default=True)
if DEBUG:
    # Only ever used on a developer's machine: production (DEBUG off) refuses to start without a key.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-not-for-production-use")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The staff admin with two-factor sign-in and the triage home page (see callbacks/apps.py).
    "callbacks.apps.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Range fields and the exclusion constraint that stops double booking (ignored on SQLite).
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinic",
    "intake",
    "callbacks",
]

MIDDLEWARE = [
    # First, so that container health checks need neither an allowed host nor HTTPS.
    "clinic.health.HealthCheckMiddleware",
    # Also before them: Prometheus scrapes a web process by its internal name; the bearer token guards it.
    "callbacks.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that answers early (413, static files): Permissions-Policy and no-store on every page.
    "clinic.headers.SecurityHeadersMiddleware",
    # Before the session and CSRF middleware read anything: an oversized body is refused unread (413).
    "clinic.limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their own headers), before anything that may set a cookie.
    "clinic.public_pages.PublicPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
                "callbacks.web.context.booking",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs the web server and a worker on one file: wait for the writer, don't fail.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: article pages and the public forms' rate limits. Production shares one Redis between every web
# process (CACHE_URL=redis://...); Redis being down only slows pages down (clinic/cache.py). Locally, the
# single web process keeps it in memory.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "clinic.cache.FailOpenRedisCache"
    # Fail fast: a page must not wait on a stopped Redis.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 0.5, "socket_timeout": 0.5})

# Backups (`manage.py backup`, `make backup`): where the dated files go, and the GnuPG key they are encrypted to
# (its public half must be in the keyring of the user who runs the backup; empty: not encrypted).
CLINIC_BACKUP_DIR = Path(env.str("CLINIC_BACKUP_DIR", default=str(VAR_DIR / "backups")))
CLINIC_BACKUP_GPG_RECIPIENT = env.str("CLINIC_BACKUP_GPG_RECIPIENT", default="")
# Days a backup in CLINIC_BACKUP_DIR is kept; each backup deletes the older ones (0: keep them all).
CLINIC_BACKUP_KEEP_DAYS = env.int("CLINIC_BACKUP_KEEP_DAYS", default=35)

# django-axes first: it refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Public form bodies are small; a larger body is refused before any view code runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400
# Every request body, files included (no page takes a file): larger ones get 413 before anything reads them.
REQUEST_BODY_MAX_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE

# Logging: ids and reference numbers only, never a patient's details (see docs/SECURITY.md).
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Django's request and security warnings name the route a request matched, never its path (clinic/logs.py).
    "filters": {"request_path": {"()": "clinic.logs.RequestPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_path"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Public pages for visitors without a session (home, articles, booking's service list, privacy notice): how
# long browsers and the reverse proxy may keep them, in seconds (clinic/public_pages.py). Everything else,
# and every page for a session, is no-store.
CLINIC_PUBLIC_PAGE_MAX_AGE = env.int("CLINIC_PUBLIC_PAGE_MAX_AGE", default=60)

# Overload (clinic/admission.py): a new patient whose first page waited longer than this for a gunicorn worker,
# by the proxy's X-Request-Start stamp, is asked to come back in a moment (the busy page, 503), so that the
# patients already filling in a form are answered in time. 0 turns nobody away. Needs CLINIC_PROXY_COUNT >= 1.
CLINIC_BUSY_WAIT_MS = max(0, env.int("CLINIC_BUSY_WAIT_MS", default=500))

# Security

SESSION_COOKIE_HTTPONLY = True
# Twelve hours, not Django's two weeks: staff sign in once a working day, and a patient's questionnaire answers
# (kept in the session until the request is sent) do not linger on a shared computer.
SESSION_COOKIE_AGE = 12 * 60 * 60
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No page uses a device feature: browsers refuse them to the site and to anything it could ever embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), usb=()"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_TLS_PROXY", default=True) else None
    )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# No inline script or style anywhere: every asset is a file served from this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# E-mail

DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="clinic@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if "EMAIL_URL" in env.ENVIRON:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Text messages (callbacks/notifications/transports/sms.py)

# twilio: Twilio's API through its SDK; file: each text written to SMS_FILE_PATH (var/texts, for `make run`);
# memory: kept in memory (tests); none: no texts at all.
SMS_BACKEND = env.str("SMS_BACKEND", default="file")
if SMS_BACKEND not in ("twilio", "file", "memory", "none"):
    raise ImproperlyConfigured("SMS_BACKEND must be twilio, file, memory or none.")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "texts")))
# Seconds to wait for the provider's answer; a text whose answer never came is looked for before it is sent again.
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=10)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# The sender: a number of the account in E.164, or a messaging service (MG...) in TWILIO_MESSAGING_SERVICE_SID.
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Twilio's API; the tests point it at a fake on loopback (tests/support/fake_twilio.py).
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
if SMS_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID)
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or "
        "TWILIO_MESSAGING_SERVICE_SID."
    )
# The public address the provider posts each text's delivery receipts to ("" = ask for none); our message id is
# added to it. The receipts view lives at /texts/status/ (SITE_URL is public in production).
SMS_STATUS_CALLBACK_URL = env.str("SMS_STATUS_CALLBACK_URL", default="")

# Celery

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (_broker_folder / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than the longest retry countdown, or Redis would hand an unacknowledged message to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60),
        "socket_connect_timeout": 2,
    }
# Losing the broker: the worker reconnects (also when it starts before Redis), waiting 2, 4, ... up to 30 s
# between attempts, and gives up after CELERY_BROKER_CONNECTION_MAX_RETRIES of them (the default, 100, is about
# 47 minutes); what happens then is in docs/RELIABILITY.md. A send already running when the connection drops
# finishes and marks its row sent: cancelling it could cut it off after the mail server accepted the message.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = env.int("CELERY_BROKER_CONNECTION_MAX_RETRIES", default=100)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One beat runs the schedule however many are started (clinic/beat.py): the others wait for its lock, which lives
# CLINIC_BEAT_LOCK_SECONDS and is renewed on every tick; a beat that died is replaced within that time.
CELERY_BEAT_SCHEDULER = "clinic.beat:SingleBeatScheduler"
CLINIC_BEAT_LOCK_SECONDS = env.int("CLINIC_BEAT_LOCK_SECONDS", default=30)
# A publish to a stopped broker must fail fast: the form's response must not wait on it. The outbox
# row is already committed, and the beat job queues it again once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Two lanes (callbacks/notifications/lanes.py): staff notifications of emergency and urgent requests travel in
# the urgent queue, with workers of their own (docker-compose.yml's worker-urgent), everything else in the routine
# one. A worker started without -Q takes both. The urgent lane's beat jobs run in the urgent queue too, so a
# routine backlog never delays them.
CELERY_TASK_DEFAULT_QUEUE = "routine"
CELERY_URGENT_QUEUE = "urgent"
# Each queue its own exchange and key. A Queue given a name alone is bound to the default exchange and key (both
# lanes' queues under one key); Redis is published to by queue name and keeps them apart anyway, an AMQP broker
# would not.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, CELERY_URGENT_QUEUE)
]
# The heartbeat (clinic/heartbeat.py): beat sends it into each queue this often; /healthz and the metrics call a
# source stale when its last heartbeat is older than HEARTBEAT_STALE_AFTER_SECONDS.
HEARTBEAT_EVERY_SECONDS = env.int("HEARTBEAT_EVERY_SECONDS", default=30)
HEARTBEAT_STALE_AFTER_SECONDS = env.int("HEARTBEAT_STALE_AFTER_SECONDS", default=120)
if HEARTBEAT_STALE_AFTER_SECONDS <= HEARTBEAT_EVERY_SECONDS:
    raise ImproperlyConfigured("HEARTBEAT_STALE_AFTER_SECONDS must be longer than HEARTBEAT_EVERY_SECONDS.")
CELERY_BEAT_SCHEDULE = {
    **{
        f"heartbeat-{queue}": {
            "task": "clinic.tasks.heartbeat",
            "schedule": HEARTBEAT_EVERY_SECONDS,
            "kwargs": {"queue": queue},
            "options": {"queue": queue},
        }
        for queue in (CELERY_TASK_DEFAULT_QUEUE, CELERY_URGENT_QUEUE)
    },
    "outbox-requeue-urgent": {
        "task": "callbacks.tasks.outbox_requeue_stale",
        "schedule": env.int("OUTBOX_REQUEUE_URGENT_EVERY_SECONDS", default=15),
        "kwargs": {"lane": "urgent"},
        "options": {"queue": CELERY_URGENT_QUEUE},
    },
    "outbox-requeue-stale": {
        "task": "callbacks.tasks.outbox_requeue_stale",
        "schedule": env.int("OUTBOX_REQUEUE_EVERY_SECONDS", default=60),
        "kwargs": {"lane": "routine"},
    },
    "callbacks-escalate-overdue": {
        "task": "callbacks.tasks.callback_requests_escalate_overdue",
        "schedule": env.int("ESCALATION_CHECK_EVERY_SECONDS", default=60),
        # It writes the escalations of overdue emergencies: never behind a routine backlog.
        "options": {"queue": CELERY_URGENT_QUEUE},
    },
    # Reminders go out the day before a confirmed appointment; the job is idempotent, so running often is safe.
    "callbacks-appointments-remind": {
        "task": "callbacks.tasks.appointments_remind",
        "schedule": 15 * 60,
    },
    # "We call you today between ...": written on the morning of the day, once per request, after quiet hours.
    "callbacks-tell-call-today": {
        "task": "callbacks.tasks.callback_requests_tell_call_today",
        "schedule": env.int("CALL_TODAY_CHECK_EVERY_SECONDS", default=15 * 60),
    },
    # Nightly, in the clinic's time zone (CELERY_TIMEZONE), when nobody is working the queue.
    "callbacks-purge-expired": {
        "task": "callbacks.tasks.callback_requests_purge_expired",
        "schedule": crontab(hour=3, minute=15),
    },
    # Outcome follow-ups are due by the day; a run every 15 minutes sends each one soon after it is due.
    "follow-ups-send-due": {
        "task": "callbacks.tasks.follow_ups_send_due",
        "schedule": env.int("FOLLOW_UP_CHECK_EVERY_SECONDS", default=15 * 60),
    },
    # A cancellation's undo time runs out: its held e-mail and the waitlist's offers go (every half-minute, so a
    # three-minute grace ends within half a minute of its time).
    "callbacks-cancellations-release": {
        "task": "callbacks.tasks.appointment_cancellations_release",
        "schedule": env.int("CANCELLATIONS_RELEASE_EVERY_SECONDS", default=30),
    },
    # The attendance figures' days (callbacks.booking.attendance_days): the stale or missing ones counted ahead of
    # the pages, most recent first, ATTENDANCE_DAYS_PER_RUN at a time.
    "callbacks-attendance-days-count": {
        "task": "callbacks.tasks.attendance_days_count",
        "schedule": env.int("ATTENDANCE_DAYS_COUNT_EVERY_SECONDS", default=5 * 60),
    },
    # Every night, every day of the window counted again whatever its marks: a change no mark recorded (raw SQL,
    # a restore, the old processes still writing during an upgrade's release step) is gone by the morning.
    "callbacks-attendance-days-recount": {
        "task": "callbacks.tasks.attendance_days_recount",
        "schedule": crontab(hour=3, minute=15),
    },
    "sessions-clear-expired": {
        "task": "callbacks.tasks.sessions_clear_expired",
        "schedule": crontab(hour=3, minute=45),
    },
}

# Metrics

# The bearer token Prometheus sends to /metrics (callbacks/ops/metrics.py); empty: the endpoint does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Forms

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The clinic

CLINIC_NAME = env.str("CLINIC_NAME", default="Riverside Back Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="020 7946 0000")
# The clinic's postal address, for appointment e-mails and calendar files.
CLINIC_ADDRESS = env.str("CLINIC_ADDRESS", default="1 Riverside Walk, London SE1 0AA")
CLINIC_DEFAULT_REGION = env.str("CLINIC_DEFAULT_REGION", default="GB")
# django-phonenumber-field: numbers without a country code are read in the clinic's region; rows store E.164.
PHONENUMBER_DEFAULT_REGION = CLINIC_DEFAULT_REGION
PHONENUMBER_DB_FORMAT = "E164"
CLINIC_OPENING_HOURS = parse_opening_hours(
    env.str("CLINIC_OPENING_HOURS", default="mon-fri 08:00-18:00; sat 09:00-13:00")
)
# Online callback requests (issue 24 item 8): first values of the capacity page in the admin, which wins once
# staff save it. Hours as CLINIC_OPENING_HOURS ("" = at any time); a daily cap of routine requests (0 = none).
CLINIC_REQUEST_HOURS = env.str("CLINIC_REQUEST_HOURS", default="")
if CLINIC_REQUEST_HOURS.strip():
    parse_opening_hours(CLINIC_REQUEST_HOURS)
CLINIC_REQUEST_DAILY_CAP = env.int("CLINIC_REQUEST_DAILY_CAP", default=0)
# A patient who started while requests were taken may still send this long after their last page.
CLINIC_REQUEST_GRACE_MINUTES = env.int("CLINIC_REQUEST_GRACE_MINUTES", default=30)
# Bank holidays close the clinic (no slots, no callback windows, the response deadline stops): the country's
# ISO code and, where holidays differ by region, the subdivision (GB: ENG, SCT, WLS, NIR). An empty country
# turns bank holidays off; staff add other closures in the admin.
CLINIC_HOLIDAYS_COUNTRY = env.str("CLINIC_HOLIDAYS_COUNTRY", default="GB").strip().upper()
CLINIC_HOLIDAYS_SUBDIVISION = env.str("CLINIC_HOLIDAYS_SUBDIVISION", default="ENG").strip().upper()
if CLINIC_HOLIDAYS_COUNTRY:
    try:
        holidays.country_holidays(CLINIC_HOLIDAYS_COUNTRY, subdiv=CLINIC_HOLIDAYS_SUBDIVISION or None)
    except NotImplementedError as exc:
        raise ImproperlyConfigured(f"CLINIC_HOLIDAYS_COUNTRY / CLINIC_HOLIDAYS_SUBDIVISION: {exc}") from None
# A cancellation by the front desk can be undone for this long: the patient's e-mail and the waitlist's offers of
# the freed time wait for it (0: they go at once and there is no undo).
CLINIC_CANCEL_UNDO_MINUTES = env.int("CLINIC_CANCEL_UNDO_MINUTES", default=3)
CLINIC_CALLBACK_WINDOW_MINUTES = env.int("CLINIC_CALLBACK_WINDOW_MINUTES", default=120)
CLINIC_CALLBACK_DAYS_AHEAD = env.int("CLINIC_CALLBACK_DAYS_AHEAD", default=14)
CLINIC_FRONT_DESK_EMAIL = env.str("CLINIC_FRONT_DESK_EMAIL", default="frontdesk@clinic.localhost")
CLINIC_URGENT_EMAIL = env.str("CLINIC_URGENT_EMAIL", default="urgent@clinic.localhost")
CLINIC_ESCALATION_EMAIL = env.str("CLINIC_ESCALATION_EMAIL", default="manager@clinic.localhost")
CLINIC_EMERGENCY_NUMBER = env.str("CLINIC_EMERGENCY_NUMBER", default="999")
CLINIC_URGENT_ADVICE_NUMBER = env.str("CLINIC_URGENT_ADVICE_NUMBER", default="111")
# What patients are told to do; "{number}" is replaced by the emergency / urgent advice number above.
_EMERGENCY_ADVICE = (
    "Call {number} now, or go straight to your nearest emergency department (A&E). Do not wait for our call."
)
_URGENT_ADVICE = "Please see a doctor today: ask your GP surgery for an urgent appointment, or call {number}."
CLINIC_EMERGENCY_ADVICE = env.str("CLINIC_EMERGENCY_ADVICE", default=_EMERGENCY_ADVICE)
CLINIC_URGENT_ADVICE = env.str("CLINIC_URGENT_ADVICE", default=_URGENT_ADVICE)
# Practitioners' calendar feeds show each appointment's reference and time; the patient's name only when this
# is on (anyone holding a practitioner's feed address would see the names).
CLINIC_CALENDAR_FEED_NAMES = env.bool("CLINIC_CALENDAR_FEED_NAMES", default=False)
# Minutes after a call is logged during which the queue and the request's page tell everyone else "being called
# by" the caller, so that two people do not ring the same patient.
CLINIC_CALL_CLAIM_MINUTES = env.int("CLINIC_CALL_CLAIM_MINUTES", default=5)
# Absolute address of the site, for links in e-mails (which have no request to build one from).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The public address the text provider posts its webhooks to (scheme and host, as in the webhook addresses set at
# the provider): the signature is checked against it, since behind the proxy this process sees another address.
SMS_WEBHOOK_BASE_URL = (env.str("SMS_WEBHOOK_BASE_URL", default="") or SITE_URL).rstrip("/")
ADMIN_URL_PATH = env.str("DJANGO_ADMIN_URL_PATH", default="admin/").strip("/") + "/"

# Staff accounts

# Two-factor (TOTP) sign-in to the admin. On by default in production; off by default with DEBUG, where the
# local run signs in with a generated password on 127.0.0.1 only (turn it on to try it: `runlocal` then enrols
# the first admin's authenticator). Enrol staff with `manage.py staff_totp_enrol <username>`.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = CLINIC_NAME
# Keys and QR codes of authenticators are never shown in the admin once created.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Wrong codes count per account, from every address: after n wrong codes in a row, the account's next code is
# checked only after 2^(n-1) seconds (django-otp's throttle, reset by a right code). A slowdown, not a lock, and
# only someone with the account's password can send a code that is checked (callbacks/admin/forms.py).
OTP_TOTP_THROTTLE_FACTOR = 1
# The account's owner and the active superusers are e-mailed at this many wrong codes in a row, and at each
# further multiple (0: nobody is told).
ADMIN_2FA_ALERT_AFTER = env.int("ADMIN_2FA_ALERT_AFTER", default=5)
# Lockout after repeated failed sign-ins: per user name and address together, so that a stranger elsewhere
# cannot lock a member of staff out, and guessing one account's password stops after the limit.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The address the nearest trusted proxy saw (CLINIC_PROXY_COUNT), an IPv6 client by its /64, the same rule as the
# forms' rate limits: keyed on REMOTE_ADDR, every failure behind the proxy would come from the proxy and lock the
# user out everywhere; keyed on each IPv6 address, one host would have endless tries.
AXES_CLIENT_IP_CALLABLE = "clinic.ratelimit.client_network"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Days shown in the admin home's "requests per day" chart.
ADMIN_CHART_DAYS = env.int("ADMIN_CHART_DAYS", default=42)
# The attendance figures' per-day rollup (callbacks.booking.attendance_days): the beat job keeps the last
# ATTENDANCE_DAYS_WINDOW days counted, at most ATTENDANCE_DAYS_PER_RUN per run (at a million requests a day costs a
# few milliseconds to count). A page counts any other day it reads itself.
ATTENDANCE_DAYS_WINDOW = env.int("ATTENDANCE_DAYS_WINDOW", default=400)
ATTENDANCE_DAYS_PER_RUN = env.int("ATTENDANCE_DAYS_PER_RUN", default=60)

# Outcome follow-ups

# Weeks after a request becomes a patient (booked) at which the outcome questionnaire is e-mailed ("" sends none).
try:
    CLINIC_FOLLOW_UP_WEEKS = follow_up_weeks_parse(env.str("CLINIC_FOLLOW_UP_WEEKS", default="2,6,12"))
except ValueError as exc:
    raise ImproperlyConfigured(f"CLINIC_FOLLOW_UP_WEEKS: {exc}") from None
# Days a follow-up's signed link keeps working after its e-mail was sent (it works once in any case).
CLINIC_FOLLOW_UP_LINK_DAYS = env.int("CLINIC_FOLLOW_UP_LINK_DAYS", default=14)

# Privacy

# Requests that never became patients (not booked) are deleted this many days after their last change.
CLINIC_RETENTION_DAYS = env.int("CLINIC_RETENTION_DAYS", default=180)
# Days a "continue your questionnaire" link (confirmation page and e-mail) keeps working after it was made.
CLINIC_CONTINUE_LINK_DAYS = env.int("CLINIC_CONTINUE_LINK_DAYS", default=14)
# Where patients send requests for a copy of their data or its deletion (shown on the privacy notice).
CLINIC_PRIVACY_EMAIL = env.str("CLINIC_PRIVACY_EMAIL", default="privacy@clinic.localhost")

# Public forms: limits per address and per phone number, counted in the cache (Redis in production).
# Rates read like 10/h (per m, h or d). Only stored requests count against the two request limits (a form sent
# back with a mistake never does); a patient over one sees the advice their answers call for, the clinic's number
# and when to try again (429), their answers kept. Figures and reasoning: README, "Limits".
CLINIC_RATE_LIMIT_FORM_POSTS = Rate.parse(env.str("CLINIC_RATE_LIMIT_FORM_POSTS", default="600/h"))
CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate.parse(env.str("CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS", default="20/h"))
CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE = Rate.parse(env.str("CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE", default="3/d"))
# How many proxies in front of gunicorn add to X-Forwarded-For (0: use the connection's address).
CLINIC_PROXY_COUNT = env.int("CLINIC_PROXY_COUNT", default=0)

# Notifications

# How long staff have to respond to each priority, in working time: Nm minutes, Nh hours of opening time,
# Nd = by closing time on the Nth working day after the request. Overdue requests are escalated once.
CLINIC_RESPONSE_DEADLINES = parse_deadlines(
    env.str("CLINIC_RESPONSE_DEADLINES", default="emergency=15m, urgent=2h, review=1d, routine=1d")
)
if set(CLINIC_RESPONSE_DEADLINES) != {"emergency", "urgent", "review", "routine"}:
    raise ImproperlyConfigured("CLINIC_RESPONSE_DEADLINES needs emergency, urgent, review and routine.")

# Optional second channel for emergency and urgent requests: a JSON POST (reference, priority, admin link).
CLINIC_URGENT_WEBHOOK_URL = env.str("CLINIC_URGENT_WEBHOOK_URL", default="")
if CLINIC_URGENT_WEBHOOK_URL and not CLINIC_URGENT_WEBHOOK_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("CLINIC_URGENT_WEBHOOK_URL must be an http(s) address.")
CLINIC_PATIENT_CONFIRMATION_EMAIL = env.bool("CLINIC_PATIENT_CONFIRMATION_EMAIL", default=True)
# The clinic's name as texts give it: at most 40 characters, so every text fits two segments (docs: README, costs).
CLINIC_TEXT_NAME = env.str("CLINIC_TEXT_NAME", default=CLINIC_NAME)
if len(CLINIC_TEXT_NAME) > 40:
    raise ImproperlyConfigured("CLINIC_TEXT_NAME (or CLINIC_NAME, its default) must be at most 40 characters.")
# Quiet hours in the clinic's time zone: non-urgent texts wait until they end (callbacks/notifications/quiet_hours.py).
CLINIC_TEXT_QUIET_HOURS = env.str("CLINIC_TEXT_QUIET_HOURS", default="20:00-08:00")
if CLINIC_TEXT_QUIET_HOURS.strip() and not re.fullmatch(
    r"\s*([01]\d|2[0-3]):[0-5]\d\s*-\s*([01]\d|2[0-3]):[0-5]\d\s*", CLINIC_TEXT_QUIET_HOURS
):
    raise ImproperlyConfigured("CLINIC_TEXT_QUIET_HOURS must be HH:MM-HH:MM (e.g. 20:00-08:00) or empty.")
# How many waitlisted patients are offered one freed slot at once (the first to accept books it).
CLINIC_WAITLIST_OFFERS_PER_SLOT = env.int("CLINIC_WAITLIST_OFFERS_PER_SLOT", default=5)

OUTBOX_STALE_AFTER_SECONDS = env.int("OUTBOX_STALE_AFTER_SECONDS", default=120)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
