"""Settings, read from the environment only (12-factor), with safe development defaults.

Every variable is documented in the README's configuration table (a test compares the two).
Every value is checked here, at start: a bad one stops the process with the variable's name
and the reason. With DEBUG off the development shortcuts are refused (the development
SECRET_KEY, no EMAIL_URL, SMS_BACKEND unset or console). To add a variable, read it with one
of the helpers of clinic/environment.py and add its row to the README.

Over 400 lines on purpose: Django reads its settings from one module, and each variable's
check sits beside the setting it feeds so that one place shows what a deployment can set.
"""

from __future__ import annotations

import importlib.util
import re
import zoneinfo
from email.utils import parseaddr
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

from clinic.environment import (
    env_absolute_path,
    env_bool,
    env_choice,
    env_emergency_number,
    env_float,
    env_import_path,
    env_int,
    env_list,
    env_pairs,
    env_region,
    env_str,
    fail,
    international_phone,
    ip_network,
    is_set,
    url_with_scheme,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _env_value(name: str, parse, default):
    """Read one variable through a django-environ `parse`, naming the variable when it is bad."""
    try:
        return parse(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured, KeyError) as exc:
        raise ImproperlyConfigured(f"{name}: invalid value ({exc})") from exc


_strict_bool = env_bool  # the older name, kept for callers


_DURATION = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_offsets(value: str) -> list[int]:
    """Turn `24h,48h,72h` into offsets in seconds (units s, m, h), loud on anything else."""
    offsets = []
    for part in value.split(","):
        match = _DURATION.match(part)
        if not match or int(match.group(1)) <= 0:
            raise ImproperlyConfigured(
                f"FOLLOWUP_OFFSETS: {part.strip()!r} is not a duration like 24h, 30m or 90s"
            )
        offsets.append(int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if len(set(offsets)) != len(offsets):
        raise ImproperlyConfigured("FOLLOWUP_OFFSETS: offsets must be different from each other")
    return sorted(offsets)


def parse_quiet_hours(value: str) -> tuple[int, int] | None:
    """Turn `21-08` into (21, 8); an empty value or `none` switches quiet hours off."""
    if value.strip().lower() in ("", "none", "off"):
        return None
    match = re.match(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$", value)
    if not match or not all(0 <= int(h) <= 23 for h in match.groups()):
        raise ImproperlyConfigured(
            f"FOLLOWUP_QUIET_HOURS: {value!r} is not a range of hours like 21-08"
        )
    start, end = (int(h) for h in match.groups())
    if start == end:
        raise ImproperlyConfigured("FOLLOWUP_QUIET_HOURS: start and end must differ")
    return start, end


DEBUG = env_bool("DEBUG", False)

# The development key is public (it is in this file): with DEBUG off it is refused, as is any
# key too short or too plain to sign sessions and links. SECRET_KEY_FALLBACKS holds the
# previous keys during a rotation, so sessions and links signed with them keep working.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY, required=True)
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])


def _check_production_key(name: str, key: str) -> None:
    # The message never repeats the key.
    if key == DEVELOPMENT_SECRET_KEY or key.startswith("django-insecure"):
        fail(name, "the development key is public; set a random key of 50+ characters")
    if len(key) < 50 or len(set(key)) < 5:
        fail(name, "must be a random key of at least 50 characters when DEBUG is off")


if not DEBUG:
    if not is_set("SECRET_KEY"):
        fail("SECRET_KEY", "must be set when DEBUG is off (a random key of 50+ characters)")
    _check_production_key("SECRET_KEY", SECRET_KEY)
    for _key in SECRET_KEY_FALLBACKS:
        _check_production_key("SECRET_KEY_FALLBACKS", _key)
if SECRET_KEY in SECRET_KEY_FALLBACKS:
    fail("SECRET_KEY_FALLBACKS", "must not contain the current SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
if not ALLOWED_HOSTS:
    fail("ALLOWED_HOSTS", "must name at least one host (the site's domain)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [], item=url_with_scheme)

# Every link sent to a client is built from SITE_URL, never from the request's Host header.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.match(r"^https?://[^/\s]+$", SITE_URL):
    fail("SITE_URL", f"{SITE_URL!r} must look like https://clinic.example (no path)")

CLINIC_NAME = env_str("CLINIC_NAME", "Riverside Massage Clinic", required=True)
CLINIC_PHONE = env_str("CLINIC_PHONE", "+44 20 7946 0000", required=True)
# The clinic's country: how phone numbers typed without a country code are read, the example
# in phone help texts, and the default emergency number on the follow-up advice.
CLINIC_REGION = env_region("CLINIC_REGION", "GB")
CLINIC_EMERGENCY_NUMBER = env_emergency_number(
    "CLINIC_EMERGENCY_NUMBER", CLINIC_REGION, "CLINIC_REGION"
)
PHONENUMBER_DEFAULT_REGION = CLINIC_REGION

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "phonenumber_field",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "staff",
    "messaging",
    "intake",
    "screening",
    "followup",
    "clinic",  # the wiring layer: periodic jobs, demo and operator commands, system checks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The second sign-in step (STAFF_2FA_REQUIRED), then deny by default: a named page the
    # user's role does not declare (staff.access) is refused.
    "staff.middleware.TwoFactorMiddleware",
    "staff.middleware.PageAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
            ],
        },
    },
]

# Widgets render through the templates above, so templates/ can fix a widget's markup (the
# admin's date and time inputs get labels there).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: SQLite under var/ by default (the embedded mode), PostgreSQL via DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)


def _url_config(name: str, parse, url: str) -> dict:
    """Parse a URL with django-environ; the message names the scheme, never the password."""
    try:
        return parse(url)
    except Exception as exc:  # django-environ raises several kinds; all mean "bad URL"
        scheme = url.partition(":")[0]
        fail(name, f"not a valid {scheme}: URL ({type(exc).__name__})")


DATABASES = {
    "default": _url_config(
        "DATABASE_URL",
        environ.Env.db_url_config,
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}", required=True),
    )
}
_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
if DATABASES["default"].get("ENGINE") not in _ENGINES:
    fail("DATABASE_URL", "only sqlite:/// and postgres:// URLs are supported")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web process and the follow-up loop write to the
    # same file without "database is locked" errors under normal clinic load.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Broker and cache. Without REDIS_URL / CELERY_BROKER_URL the app runs embedded: tasks run
# in-process (eagerly) and the tick is `manage.py sendmessages --loop`.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL and not re.match(r"^rediss?://", REDIS_URL):
    fail("REDIS_URL", "must start with redis:// or rediss://")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
if CELERY_BROKER_URL and not re.match(r"^(redis|rediss|amqp|memory)://", CELERY_BROKER_URL):
    fail("CELERY_BROKER_URL", "must start with redis://, rediss:// or amqp://")
EMBEDDED = not CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
if EMBEDDED:
    CELERY_BROKER_URL = "memory://"  # never used by eager tasks; keeps Celery from guessing
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must never hang a web request when the broker is down; the tick re-sends.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2}
CELERY_TIMEZONE = "UTC"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email. EMAIL_URL: smtp+tls:// (STARTTLS, usually port 587), smtp+ssl:// (TLS from the
# first byte, usually port 465), smtp:// (no TLS), consolemail://, memorymail://, or outbox:
# (the development outbox, a table shown at /followup/outbox/ when DEBUG is on). A provider's
# HTTP API instead: EMAIL_BACKEND (a django-anymail backend) and ANYMAIL. With DEBUG off one
# of the two must be set: messages are never "sent" to the outbox by default.
OUTBOX_EMAIL_BACKEND = "messaging.channels.OutboxEmailBackend"
EMAIL_SCHEMES = ("smtp", "smtp+tls", "smtp+ssl", "consolemail", "memorymail", "outbox")
EMAIL_URL = env_str("EMAIL_URL", "")
EMAIL_BACKEND = OUTBOX_EMAIL_BACKEND
if EMAIL_URL:
    _scheme = EMAIL_URL.partition(":")[0].lower()
    if _scheme == "smtps":
        # django-environ reads smtps:// as STARTTLS, which hangs on a port-465 server.
        fail(
            "EMAIL_URL",
            "smtps:// is ambiguous: use smtp+ssl:// for TLS from the start (port 465) "
            "or smtp+tls:// for STARTTLS (port 587)",
        )
    if _scheme not in EMAIL_SCHEMES:
        fail("EMAIL_URL", f"{_scheme}: is not one of {', '.join(EMAIL_SCHEMES)}")
    if _scheme != "outbox":
        vars().update(_url_config("EMAIL_URL", environ.Env.email_url_config, EMAIL_URL))
elif not DEBUG and not is_set("EMAIL_BACKEND"):
    fail(
        "EMAIL_URL",
        "must be set when DEBUG is off (e.g. smtp+tls://user:password@smtp.example:587), "
        "or set EMAIL_BACKEND to a django-anymail backend",
    )
EMAIL_BACKEND = env_import_path("EMAIL_BACKEND", EMAIL_BACKEND)
ANYMAIL = env_pairs("ANYMAIL")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{CLINIC_NAME} <no-reply@localhost>")
try:
    validate_email(parseaddr(DEFAULT_FROM_EMAIL)[1])
except ValidationError:
    fail("DEFAULT_FROM_EMAIL", f"{DEFAULT_FROM_EMAIL!r} is not an address like Name <a@b.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

SMS_BACKENDS = {
    "console": "messaging.channels.ConsoleSMSBackend",
    "locmem": "messaging.channels.LocmemSMSBackend",
    "outbox": "messaging.channels.OutboxSMSBackend",
    "twilio": "messaging.channels.TwilioSMSBackend",
}
SMS_BACKEND = env_choice("SMS_BACKEND", "outbox", SMS_BACKENDS)
if not DEBUG and not is_set("SMS_BACKEND"):
    fail(
        "SMS_BACKEND",
        "must be set when DEBUG is off: twilio to send texts, or outbox to keep them unsent "
        "in the database (only for a clinic that never texts its clients)",
    )
if not DEBUG and SMS_BACKEND == "console":
    fail("SMS_BACKEND", "console only prints texts; with DEBUG off use twilio (or outbox)")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
if TWILIO_FROM_NUMBER:
    TWILIO_FROM_NUMBER = international_phone("TWILIO_FROM_NUMBER", TWILIO_FROM_NUMBER)
if SMS_BACKEND == "twilio":
    _twilio = {
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
    }
    _missing = [name for name, value in _twilio.items() if not value]
    if _missing:
        fail("SMS_BACKEND", f"twilio needs {', '.join(_missing)}")
    if importlib.util.find_spec("twilio") is None:
        fail("SMS_BACKEND", "twilio needs the twilio package (pip install twilio)")

# Follow-up policy knobs.
FOLLOWUP_OFFSETS = parse_offsets(env_str("FOLLOWUP_OFFSETS", "24h,48h,72h"))
FOLLOWUP_QUIET_HOURS = parse_quiet_hours(env_str("FOLLOWUP_QUIET_HOURS", "21-08"))
FOLLOWUP_TOKEN_DAYS = env_int("FOLLOWUP_TOKEN_DAYS", 7, minimum=1, maximum=365)
FOLLOWUP_MAX_ATTEMPTS = env_int("FOLLOWUP_MAX_ATTEMPTS", 5, minimum=1, maximum=100)
FOLLOWUP_RETENTION_DAYS = env_int("FOLLOWUP_RETENTION_DAYS", 365, minimum=1, maximum=36_500)
FOLLOWUP_TICK_SECONDS = env_float("FOLLOWUP_TICK_SECONDS", 60.0, minimum=1, maximum=3600)
# A row still `sending` after this long was lost (worker killed, broker flushed): re-queue it.
# Below half a minute a slow mail server's send would be taken for lost and sent again.
FOLLOWUP_SWEEP_SECONDS = env_int("FOLLOWUP_SWEEP_SECONDS", 600, minimum=30, maximum=86_400)
# A check-in not sent within this long after it was due is expired, not sent days late.
FOLLOWUP_OVERDUE_HOURS = env_int("FOLLOWUP_OVERDUE_HOURS", 24, minimum=1, maximum=720)
FOLLOWUP_RATE_LIMIT_REQUESTS = env_int("FOLLOWUP_RATE_LIMIT_REQUESTS", 30, minimum=1)
FOLLOWUP_RATE_LIMIT_WINDOW = env_int("FOLLOWUP_RATE_LIMIT_WINDOW", 600, minimum=1, maximum=86_400)
# Pre-visit intake links: sent this many days before the visit (0: as soon as it is booked),
# or at once when the visit is nearer; the link pages have their own request budget (a
# client goes through a dozen steps).
INTAKE_LINK_DAYS_BEFORE = env_int("INTAKE_LINK_DAYS_BEFORE", 3, minimum=0, maximum=60)
INTAKE_RATE_LIMIT_REQUESTS = env_int("INTAKE_RATE_LIMIT_REQUESTS", 120, minimum=1)
INTAKE_RATE_LIMIT_WINDOW = env_int("INTAKE_RATE_LIMIT_WINDOW", 600, minimum=1, maximum=86_400)
# Staff users have no phone field: urgent escalations are texted to `username=+44...` pairs.
FOLLOWUP_THERAPIST_PHONES = env_pairs("FOLLOWUP_THERAPIST_PHONES", value=international_phone)

# Celery beat's schedule: the tick (check-ins and every kind of link message, alert retries),
# the daily retention jobs (clinic/tasks.py), and
# a heartbeat that beat's health check reads (`manage.py check_beat`): a fresh heartbeat
# proves that beat is scheduling and that a worker runs what it schedules.
BEAT_HEARTBEAT_SECONDS = 30
CELERY_BEAT_SCHEDULE = {
    "messaging-dispatch-due": {
        "task": "messaging.tasks.dispatch_due",
        "schedule": FOLLOWUP_TICK_SECONDS,
    },
    "clinic-purge-followups": {
        "task": "clinic.tasks.purge_followups",
        "schedule": crontab(hour=3, minute=15),
    },
    "clinic-clear-sessions": {
        "task": "clinic.tasks.clear_sessions",
        "schedule": crontab(hour=3, minute=45),
    },
    "clinic-heartbeat": {
        "task": "clinic.tasks.heartbeat",
        "schedule": float(BEAT_HEARTBEAT_SECONDS),
    },
}

# The supplementary tier of screening rules (public guidance outside the clinic's source
# articles). Off: those conditions screen "review", never "clear". Changing it re-screens
# scheduled visits (`migrate` and `manage.py rescreen`).
SCREENING_SUPPLEMENTARY = _strict_bool("SCREENING_SUPPLEMENTARY", True)

# Floor views for `make bench` (clinic/bench_views.py); never set in production.
BENCH_FLOOR = env_bool("BENCH_FLOOR", False)

# Internationalisation.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC", required=True)
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    fail("TIME_ZONE", f"{TIME_ZONE!r} is not a known time zone (like Europe/London)")
USE_I18N = True
USE_TZ = True

# Static files: Bootstrap is vendored from its npm package into static/vendor/.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = env_absolute_path("MEDIA_ROOT", str(VAR_DIR / "media"))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Authentication: staff only; clients never log in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Two-factor sign-in (staff.two_factor): required for every staff account unless DEBUG is on.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", not DEBUG)
# Usernames spared the second step: the demo logins of `make run`; never in production.
STAFF_2FA_EXEMPT = env_list("STAFF_2FA_EXEMPT", [])
if STAFF_2FA_EXEMPT and not DEBUG:
    raise ImproperlyConfigured("STAFF_2FA_EXEMPT: only allowed with DEBUG=1 (the demo)")
OTP_TOTP_ISSUER = CLINIC_NAME
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# The same client address as the rate limit: X-Forwarded-For only from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "staff.addresses.client_address"

# Idle staff sessions end after SESSION_IDLE_MINUTES (the cookie is refreshed on each request).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1, maximum=1440) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Transport security: on by default whenever DEBUG is off.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind a TLS-terminating proxy (Caddy in docker-compose.yml). BEHIND_PROXY trusts the
# proxy's X-Forwarded-Proto, so Django knows the request came over HTTPS; only the proxy may
# reach the app then (gunicorn is not published). TRUSTED_PROXIES lists the proxies' addresses
# or networks (IPv4/IPv6, CIDR allowed) whose X-Forwarded-For is believed when working out a
# client's address; a request from anywhere else is its own client address.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXIES = tuple(env_list("TRUSTED_PROXIES", [], item=ip_network))


# A strict Content-Security-Policy: no inline script or style anywhere.
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

# Logs carry ids and states, never health details (see README, "Security and reliability"),
# and never a link token: every handler scrubs them (clinic.scrub). Django's own loggers
# ("django", "django.server" for runserver) lose their default handlers and go through ours.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS, case_sensitive=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "clinic.scrub.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
