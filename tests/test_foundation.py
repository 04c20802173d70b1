"""The project skeleton: settings, health endpoint, roles, the Celery app.

The production files are checked in tests/clinic/test_production_files.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from clinic.settings import parse_offsets, parse_quiet_hours
from tests.services import REQUIRED
from tests.support.processes import manage

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return manage(*args, env={**full_env, **env})


@pytest.mark.skipif(not REQUIRED, reason="only CI promises PostgreSQL")
def test_ci_runs_the_tests_on_postgresql(db):
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("24h,48h,72h", [86400, 172800, 259200]), ("5s, 10s,15s", [5, 10, 15]), ("2m", [120])],
)
def test_followup_offsets_accept_seconds_minutes_and_hours(value, expected):
    assert parse_offsets(value) == expected


@pytest.mark.parametrize("value", ["", "24", "24d", "-5s", "0s", "1h,1h", "abc"])
def test_bad_followup_offsets_name_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="FOLLOWUP_OFFSETS"):
        parse_offsets(value)


def test_quiet_hours_parse_and_can_be_switched_off():
    assert parse_quiet_hours("21-08") == (21, 8)
    assert parse_quiet_hours("none") is None
    for bad in ("25-08", "21", "8-8", "evening"):
        with pytest.raises(ImproperlyConfigured, match="FOLLOWUP_QUIET_HOURS"):
            parse_quiet_hours(bad)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "notascheme://x"),
        ("DEBUG", "maybe"),
        ("REDIS_URL", "http://localhost"),
        ("SMS_BACKEND", "pigeon"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("SITE_URL", "clinic.example"),
        ("SCREENING_SUPPLEMENTARY", "sometimes"),
    ],
)
def test_a_bad_environment_value_stops_the_process_naming_the_variable(name, value):
    result = _manage("check", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x7#kq2!p9vz8m4n1b6c3d5f0g8h2j4k6l8m0n2p4q6r8s0t2u4v6w8y0z",
        ALLOWED_HOSTS="clinic.example",
        SITE_URL="https://clinic.example",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_health_reports_database_and_broker(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True


def test_health_is_503_when_the_broker_is_unreachable(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_login_page_uses_bootstrap_from_our_static_files(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "cdn" not in html.lower()
    assert (ROOT / "static/vendor/bootstrap/bootstrap.min.css").exists()


def test_pages_send_a_strict_content_security_policy(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_staff_groups_exist_and_front_desk_cannot_read_health_history(db):
    therapist = Group.objects.get(name="therapist")
    front_desk = Group.objects.get(name="front_desk")
    therapist_perms = set(therapist.permissions.values_list("codename", flat=True))
    front_perms = set(front_desk.permissions.values_list("codename", flat=True))
    assert {"view_health_history", "view_intake", "add_intake"} <= therapist_perms
    assert not {"view_health_history", "view_intake", "view_checkinanswer"} & front_perms
    assert {"view_client", "change_visit"} <= front_perms


def test_anonymous_users_are_sent_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_celery_app_is_configured_for_reliable_delivery():
    from clinic.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late is True
    assert "messaging-dispatch-due" in app.conf.beat_schedule
