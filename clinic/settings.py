"""Settings, read from the environment only (12-factor), with safe development defaults.

Every variable is documented in the README. A bad value stops the process at start with the
variable's name in the message.
"""

from __future__ import annotations

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _env_value(name: str, parse, default):
    """Read one variable through `parse`, naming the variable when the value is bad."""
    try:
        return parse(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured, KeyError) as exc:
        raise ImproperlyConfigured(f"{name}: invalid value ({exc})") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _strict_bool(name: str, default: bool) -> bool:
    """Read a boolean, refusing values that are neither clearly true nor clearly false."""
    raw = env.str(name, default="1" if default else "0").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name}: {raw!r} is not a boolean (use 1/0, true/false)")
    return raw in _TRUE


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


DEBUG = _strict_bool("DEBUG", False)
SECRET_KEY = _env_value(
    "SECRET_KEY", env.str, "django-insecure-development-only-key-do-not-use-in-production"
)
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY: must be at least 50 characters when DEBUG is off")
ALLOWED_HOSTS = _env_value("ALLOWED_HOSTS", env.list, ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_value("CSRF_TRUSTED_ORIGINS", env.list, [])

# Every link sent to a client is built from SITE_URL, never from the request's Host header.
SITE_URL = _env_value("SITE_URL", env.str, "http://127.0.0.1:8000").rstrip("/")
if not re.match(r"^https?://[^/\s]+$", SITE_URL):
    raise ImproperlyConfigured(f"SITE_URL: {SITE_URL!r} must look like https://clinic.example")

CLINIC_NAME = _env_value("CLINIC_NAME", env.str, "Riverside Massage Clinic")
CLINIC_PHONE = _env_value("CLINIC_PHONE", env.str, "+44 20 7946 0000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "phonenumber_field",
    "axes",
    "csp",
    "staff",
    "intake",
    "screening",
    "followup",
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

# Database: SQLite under var/ by default (the embedded mode), PostgreSQL via DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": _env_value("DATABASE_URL", env.db_url, f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}")
}
_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
if DATABASES["default"].get("ENGINE") not in _ENGINES:
    raise ImproperlyConfigured("DATABASE_URL: only sqlite:/// and postgres:// URLs are supported")
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
# in-process (eagerly) and the follow-up tick is `manage.py sendfollowups --loop`.
REDIS_URL = _env_value("REDIS_URL", env.str, "")
if REDIS_URL and not re.match(r"^rediss?://", REDIS_URL):
    raise ImproperlyConfigured(f"REDIS_URL: {REDIS_URL!r} is not a redis:// URL")
CELERY_BROKER_URL = _env_value("CELERY_BROKER_URL", env.str, REDIS_URL)
if CELERY_BROKER_URL and not re.match(r"^(redis|rediss|amqp|memory)://", CELERY_BROKER_URL):
    raise ImproperlyConfigured(
        f"CELERY_BROKER_URL: {CELERY_BROKER_URL!r} is not a redis://, rediss:// or amqp:// URL"
    )
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
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Email: EMAIL_URL (smtp://, smtps://, consolemail://, memorymail:// or outbox: for the
# development outbox stored in the database). Production providers via EMAIL_BACKEND
# (an anymail backend) and ANYMAIL_* settings.
_email_url = _env_value("EMAIL_URL", env.str, "outbox:")
if _email_url.startswith("outbox:"):
    EMAIL_BACKEND = "followup.channels.OutboxEmailBackend"
else:
    try:
        vars().update(environ.Env.email_url_config(_email_url))
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL: invalid value ({exc})") from exc
EMAIL_BACKEND = _env_value("EMAIL_BACKEND", env.str, EMAIL_BACKEND)
ANYMAIL = _env_value("ANYMAIL", env.dict, {})
DEFAULT_FROM_EMAIL = _env_value(
    "DEFAULT_FROM_EMAIL", env.str, f"{CLINIC_NAME} <no-reply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

SMS_BACKENDS = {
    "console": "followup.channels.ConsoleSMSBackend",
    "locmem": "followup.channels.LocmemSMSBackend",
    "outbox": "followup.channels.OutboxSMSBackend",
    "twilio": "followup.channels.TwilioSMSBackend",
}
SMS_BACKEND = _env_value("SMS_BACKEND", env.str, "outbox")
if SMS_BACKEND not in SMS_BACKENDS:
    raise ImproperlyConfigured(f"SMS_BACKEND: {SMS_BACKEND!r} is not one of {sorted(SMS_BACKENDS)}")
TWILIO_ACCOUNT_SID = _env_value("TWILIO_ACCOUNT_SID", env.str, "")
TWILIO_AUTH_TOKEN = _env_value("TWILIO_AUTH_TOKEN", env.str, "")
TWILIO_FROM_NUMBER = _env_value("TWILIO_FROM_NUMBER", env.str, "")

# Follow-up policy knobs.
FOLLOWUP_OFFSETS = parse_offsets(_env_value("FOLLOWUP_OFFSETS", env.str, "24h,48h,72h"))
FOLLOWUP_QUIET_HOURS = parse_quiet_hours(_env_value("FOLLOWUP_QUIET_HOURS", env.str, "21-08"))
FOLLOWUP_TOKEN_DAYS = _env_value("FOLLOWUP_TOKEN_DAYS", env.int, 7)
FOLLOWUP_MAX_ATTEMPTS = _env_value("FOLLOWUP_MAX_ATTEMPTS", env.int, 5)
FOLLOWUP_RETENTION_DAYS = _env_value("FOLLOWUP_RETENTION_DAYS", env.int, 365)
FOLLOWUP_TICK_SECONDS = _env_value("FOLLOWUP_TICK_SECONDS", env.float, 60.0)
# A row still `sending` after this long was lost (worker killed, broker flushed): re-queue it.
FOLLOWUP_SWEEP_SECONDS = _env_value("FOLLOWUP_SWEEP_SECONDS", env.int, 600)
# A check-in not sent within this long after it was due is expired, not sent days late.
FOLLOWUP_OVERDUE_HOURS = _env_value("FOLLOWUP_OVERDUE_HOURS", env.int, 24)
FOLLOWUP_RATE_LIMIT_REQUESTS = _env_value("FOLLOWUP_RATE_LIMIT_REQUESTS", env.int, 30)
FOLLOWUP_RATE_LIMIT_WINDOW = _env_value("FOLLOWUP_RATE_LIMIT_WINDOW", env.int, 600)
# Staff users have no phone field: urgent escalations are texted to `username=+44...` pairs.
FOLLOWUP_THERAPIST_PHONES = _env_value("FOLLOWUP_THERAPIST_PHONES", env.dict, {})
CELERY_BEAT_SCHEDULE = {
    "followup-dispatch-due": {
        "task": "followup.tasks.dispatch_due",
        "schedule": FOLLOWUP_TICK_SECONDS,
    },
}

# The supplementary tier of screening rules (public guidance outside the clinic's source
# articles). Off: those conditions screen "review", never "clear". Changing it re-screens
# scheduled visits (`migrate` and `manage.py rescreen`).
SCREENING_SUPPLEMENTARY = _strict_bool("SCREENING_SUPPLEMENTARY", True)

# Floor views for `make bench` (clinic/bench_views.py); never set in production.
BENCH_FLOOR = _strict_bool("BENCH_FLOOR", False)

# Internationalisation.
LANGUAGE_CODE = "en-gb"
TIME_ZONE = _env_value("TIME_ZONE", env.str, "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except Exception as exc:
    raise ImproperlyConfigured(f"TIME_ZONE: {TIME_ZONE!r} is not a known time zone") from exc
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
MEDIA_ROOT = _env_value("MEDIA_ROOT", env.str, str(VAR_DIR / "media"))
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
AXES_FAILURE_LIMIT = _env_value("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "lockout.html"

# Idle staff sessions end after SESSION_IDLE_MINUTES (the cookie is refreshed on each request).
SESSION_COOKIE_AGE = _env_value("SESSION_IDLE_MINUTES", env.int, 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Transport security: on by default whenever DEBUG is off.
SECURE_SSL_REDIRECT = _strict_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _strict_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = _env_value("SECURE_HSTS_SECONDS", env.int, 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _strict_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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

# Logs carry ids and states, never health details (see README, "Security and reliability").
LOG_LEVEL = _env_value("LOG_LEVEL", env.str, "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
