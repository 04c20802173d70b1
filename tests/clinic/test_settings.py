"""Every setting is checked at start: a bad value stops the process naming the variable.

Each case loads clinic/settings.py afresh in this process with an explicit environment (a
valid production one, then the case's change), which is what every process does at start.
One case at the end runs manage.py to see the message an operator gets.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support.processes import manage

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "clinic" / "settings.py"
PRODUCTION_KEY = "p6P!x2rQ9v#L4m8T1w7Z3k5N0b9C2d6F8h1J4s7U0y3A5e8G2i6K9o1R4t7W0z3"
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": PRODUCTION_KEY,
    "ALLOWED_HOSTS": "clinic.example",
    "SITE_URL": "https://clinic.example",
    "EMAIL_URL": "smtp+tls://clinic:mail-password@smtp.clinic.example:587",
    "SMS_BACKEND": "outbox",
}
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update({k: saved[k] for k in KEEP if k in saved})
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_settings(**changes: str | None) -> ModuleType:
    """Load clinic/settings.py with the production environment plus `changes` (None unsets)."""
    values = {**PRODUCTION, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    with _environment(values):
        spec.loader.exec_module(module)
    return module


def refusal(**changes: str | None) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load_settings(**changes)
    return str(excinfo.value)


def test_the_production_environment_of_these_tests_is_valid():
    settings = load_settings()
    assert settings.DEBUG is False
    assert settings.EMAIL_USE_TLS is True
    assert settings.SECRET_KEY == PRODUCTION_KEY


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("SESSION_IDLE_MINUTES", "-5", "-5 is below the minimum of 1"),
        ("SESSION_IDLE_MINUTES", "thirty", "'thirty' is not a whole number"),
        ("SESSION_IDLE_MINUTES", "", "'' is not a whole number"),
        ("FOLLOWUP_TOKEN_DAYS", "0", "0 is below the minimum of 1"),
        ("FOLLOWUP_TICK_SECONDS", "0", "0 is below the minimum of 1"),
        ("FOLLOWUP_TICK_SECONDS", "nan", "not a finite number"),
        ("FOLLOWUP_MAX_ATTEMPTS", "0", "below the minimum of 1"),
        ("FOLLOWUP_RETENTION_DAYS", "0", "below the minimum of 1"),
        ("FOLLOWUP_SWEEP_SECONDS", "5", "5 is below the minimum of 30"),
        ("FOLLOWUP_OVERDUE_HOURS", "0", "below the minimum of 1"),
        ("FOLLOWUP_RATE_LIMIT_REQUESTS", "0", "below the minimum of 1"),
        ("FOLLOWUP_RATE_LIMIT_WINDOW", "-1", "below the minimum of 1"),
        ("AXES_FAILURE_LIMIT", "0", "below the minimum of 1"),
        ("SECURE_HSTS_SECONDS", "-1", "below the minimum of 0"),
        ("FOLLOWUP_OFFSETS", "24", "not a duration"),
        ("FOLLOWUP_QUIET_HOURS", "evening", "not a range of hours"),
        ("LOG_LEVEL", "LOUD", "'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DEBUG", "maybe", "'maybe' is not a boolean"),
        ("BEHIND_PROXY", "2", "'2' is not a boolean"),
        ("SECURE_SSL_REDIRECT", "sometimes", "not a boolean"),
        ("TIME_ZONE", "Mars/Olympus", "not a known time zone"),
        ("SITE_URL", "clinic.example", "must look like https://clinic.example"),
        ("SITE_URL", "https://clinic.example/app", "must look like https://clinic.example"),
        ("ALLOWED_HOSTS", "", "must name at least one host"),
        ("CSRF_TRUSTED_ORIGINS", "clinic.example", "'clinic.example' must look like https://"),
        ("CLINIC_NAME", " ", "must not be empty"),
        ("MEDIA_ROOT", "var/media", "'var/media' is not an absolute path"),
        ("DATABASE_URL", "mysql://db/clinic", "only sqlite:/// and postgres://"),
        ("REDIS_URL", "http://localhost", "must start with redis://"),
        ("CELERY_BROKER_URL", "sqs://queue", "must start with redis://"),
        ("EMAIL_URL", "smtps://u:p@smtp.example:465", "use smtp+ssl:// for TLS from the start"),
        ("EMAIL_URL", "http://smtp.example", "http: is not one of smtp, smtp+tls, smtp+ssl"),
        ("EMAIL_URL", "smtp+ssl://u:p@smtp.example:port", "not a valid smtp+ssl: URL"),
        ("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBacknd", "cannot be imported"),
        ("EMAIL_BACKEND", "anymail.backends.mailgnu.EmailBackend", "cannot be imported"),
        ("DEFAULT_FROM_EMAIL", "Riverside Clinic", "is not an address like"),
        ("ANYMAIL", "MAILGUN_API_KEY", "'MAILGUN_API_KEY' is not a key=value pair"),
        ("SMS_BACKEND", "pigeon", "'pigeon' is not one of console, locmem, outbox, twilio"),
        ("FOLLOWUP_THERAPIST_PHONES", "tess=12345", "'12345' is not a phone number"),
        ("FOLLOWUP_THERAPIST_PHONES", "tess=07700 900123", "is not a phone number"),
        ("FOLLOWUP_THERAPIST_PHONES", "tess", "'tess' is not a key=value pair"),
        ("FOLLOWUP_THERAPIST_PHONES", "tess=+447700900123,tess=+447700900124", "given twice"),
        ("TWILIO_FROM_NUMBER", "0800 123", "is not a phone number with its country code"),
        ("TRUSTED_PROXIES", "proxy", "'proxy' is not an IP address or network"),
        ("CLINIC_REGION", "UK", "'UK' is not a two-letter country code"),
        ("CLINIC_REGION", "England", "is not a two-letter country code"),
        ("CLINIC_EMERGENCY_NUMBER", "call 999", "'call 999' is not a number to dial"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network"),
        ("TRUSTED_PROXIES", "172.30.0.0/24, fd00::/129", "'fd00::/129' is not an IP address"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_and_the_reason(name, value, reason):
    message = refusal(**{name: value})
    assert message.startswith(f"{name}: ")
    assert reason in message


# ---- production refuses the development shortcuts --------------------------------------


def test_production_refuses_to_start_without_a_secret_key():
    assert "SECRET_KEY: must be set when DEBUG is off" in refusal(SECRET_KEY=None)


@pytest.mark.parametrize(
    "key",
    [
        "django-insecure-development-only-key-do-not-use-in-production",
        "django-insecure-" + "x9" * 30,
        "short-key",
        "a" * 60,
    ],
)
def test_production_refuses_the_development_key_and_weak_keys(key):
    message = refusal(SECRET_KEY=key)
    assert message.startswith("SECRET_KEY: ")
    assert key not in message  # a key is never repeated in a message


def test_development_runs_on_the_development_key():
    settings = load_settings(DEBUG="1", SECRET_KEY=None, EMAIL_URL=None, SMS_BACKEND=None)
    assert settings.SECRET_KEY.startswith("django-insecure")
    assert settings.EMAIL_BACKEND == "messaging.channels.OutboxEmailBackend"
    assert settings.SMS_BACKEND == "outbox"


def test_previous_keys_are_accepted_as_fallbacks_for_a_rotation():
    previous = "Q" + PRODUCTION_KEY[1:]
    fallbacks = load_settings(SECRET_KEY_FALLBACKS=previous).SECRET_KEY_FALLBACKS
    assert fallbacks == [previous]


@pytest.mark.parametrize(
    ("fallbacks", "reason"),
    [
        ("too-short", "at least 50 characters"),
        ("django-insecure-development-only-key-do-not-use-in-production", "development key"),
        (PRODUCTION_KEY, "must not contain the current SECRET_KEY"),
    ],
)
def test_weak_or_repeated_fallback_keys_are_refused(fallbacks, reason):
    message = refusal(SECRET_KEY_FALLBACKS=fallbacks)
    assert message.startswith("SECRET_KEY_FALLBACKS: ")
    assert reason in message


def test_production_refuses_to_start_without_email_rather_than_filling_the_outbox():
    message = refusal(EMAIL_URL=None)
    assert message.startswith("EMAIL_URL: must be set when DEBUG is off")


def test_an_anymail_backend_replaces_email_url():
    settings = load_settings(
        EMAIL_URL=None,
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        ANYMAIL="MAILGUN_API_KEY=key-123,MAILGUN_SENDER_DOMAIN=mg.clinic.example",
    )
    assert settings.EMAIL_BACKEND == "anymail.backends.mailgun.EmailBackend"
    assert settings.ANYMAIL == {
        "MAILGUN_API_KEY": "key-123",
        "MAILGUN_SENDER_DOMAIN": "mg.clinic.example",
    }


@pytest.mark.parametrize(
    ("url", "tls", "ssl"),
    [
        ("smtp+tls://u:p@smtp.example:587", True, False),
        ("smtp+ssl://u:p@smtp.example:465", False, True),
        ("smtp://smtp.example:25", False, False),
    ],
)
def test_email_url_schemes_choose_starttls_or_tls_from_the_start(url, tls, ssl):
    settings = load_settings(EMAIL_URL=url)
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    used = (getattr(settings, "EMAIL_USE_TLS", False), getattr(settings, "EMAIL_USE_SSL", False))
    assert used == (tls, ssl)


def test_a_bad_email_url_does_not_repeat_its_password():
    message = refusal(EMAIL_URL="smtp+tls://user:hunter2-secret@smtp.example:notaport")
    assert "hunter2-secret" not in message


def test_production_refuses_an_unset_or_console_sms_backend():
    assert refusal(SMS_BACKEND=None).startswith("SMS_BACKEND: must be set when DEBUG is off")
    assert "console only prints texts" in refusal(SMS_BACKEND="console")
    assert load_settings(DEBUG="1", SMS_BACKEND="console").SMS_BACKEND == "console"


def test_twilio_without_credentials_names_what_is_missing():
    message = refusal(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC123")
    assert message == "SMS_BACKEND: twilio needs TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"


@pytest.mark.skipif(
    importlib.util.find_spec("twilio") is not None, reason="the twilio package is installed"
)
def test_twilio_without_its_package_says_how_to_install_it():
    message = refusal(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="token",
        TWILIO_FROM_NUMBER="+447700900123",
    )
    assert message == "SMS_BACKEND: twilio needs the twilio package (pip install twilio)"


# ---- values that are read correctly ------------------------------------------------------


def test_therapist_phones_are_read_as_international_numbers():
    settings = load_settings(FOLLOWUP_THERAPIST_PHONES="tess=+44 7700 900123, sam=+15005550006")
    assert settings.FOLLOWUP_THERAPIST_PHONES == {"tess": "+447700900123", "sam": "+15005550006"}


@pytest.mark.parametrize(
    ("region", "number"), [("GB", "999"), ("US", "911"), ("DE", "112"), ("IE", "112")]
)
def test_the_emergency_number_defaults_from_the_clinic_region(region, number):
    loaded = load_settings(CLINIC_REGION=region.lower())
    assert (region, region) == (loaded.CLINIC_REGION, loaded.PHONENUMBER_DEFAULT_REGION)
    assert number == loaded.CLINIC_EMERGENCY_NUMBER


def test_a_region_without_a_known_emergency_number_must_set_one():
    message = refusal(CLINIC_REGION="AU")
    assert message.startswith("CLINIC_EMERGENCY_NUMBER: must be set")
    assert (
        load_settings(CLINIC_REGION="AU", CLINIC_EMERGENCY_NUMBER="000").CLINIC_EMERGENCY_NUMBER
        == "000"
    )


def test_trusted_proxies_take_ipv4_and_ipv6_addresses_and_networks():
    settings = load_settings(TRUSTED_PROXIES="172.30.100.0/24, 10.0.0.7, fd00:c1::/64, ::1")
    proxies = settings.TRUSTED_PROXIES
    assert proxies == (
        ipaddress.ip_network("172.30.100.0/24"),
        ipaddress.ip_network("10.0.0.7/32"),
        ipaddress.ip_network("fd00:c1::/64"),
        ipaddress.ip_network("::1/128"),
    )
    assert load_settings().TRUSTED_PROXIES == ()


def test_behind_proxy_trusts_the_forwarded_protocol():
    assert load_settings(BEHIND_PROXY="1").SECURE_PROXY_SSL_HEADER == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    assert not hasattr(load_settings(), "SECURE_PROXY_SSL_HEADER")


def test_log_level_may_be_written_in_lower_case():
    assert load_settings(LOG_LEVEL="warning").LOGGING["root"]["level"] == "WARNING"


def test_csrf_trusted_origins_is_empty_by_default_and_takes_origins_with_a_scheme():
    assert load_settings().CSRF_TRUSTED_ORIGINS == []
    origins = "https://clinic.example,https://*.clinic.example"
    trusted = load_settings(CSRF_TRUSTED_ORIGINS=origins).CSRF_TRUSTED_ORIGINS
    assert trusted == origins.split(",")


def test_the_retention_jobs_and_the_heartbeat_are_on_beats_schedule():
    schedule = load_settings().CELERY_BEAT_SCHEDULE
    tasks = {entry["task"] for entry in schedule.values()}
    assert {
        "messaging.tasks.dispatch_due",
        "clinic.tasks.purge_followups",
        "clinic.tasks.clear_sessions",
        "clinic.tasks.heartbeat",
    } <= tasks
    daily = [e for e in schedule.values() if e["task"].startswith("clinic.tasks.purge")]
    assert daily[0]["schedule"].hour == {3}


def test_an_operator_sees_one_line_naming_the_variable_not_a_traceback():
    result = _manage("check", **PRODUCTION, LOG_LEVEL="LOUD")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Configuration error: LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )


def _manage(*args: str, **extra: str) -> subprocess.CompletedProcess:
    """Run manage.py with no environment of the project's own (no DEBUG, no SECRET_KEY) but
    `extra`."""
    env = {k: os.environ[k] for k in KEEP if k in os.environ}
    env.update(extra, DJANGO_SETTINGS_MODULE="clinic.settings")
    return manage(*args, env=env)


def test_the_migrations_check_needs_no_production_secrets_but_serving_commands_do():
    schema = _manage("makemigrations", "--check", "--dry-run")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "No changes detected" in schema.stdout

    served = _manage("check")
    assert served.returncode == 1
    assert "SECRET_KEY: must be set when DEBUG is off" in served.stderr
