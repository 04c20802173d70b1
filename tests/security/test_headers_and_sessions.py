"""Logins are throttled, idle sessions end, CSRF is enforced, every page carries a strict
Content-Security-Policy and has no inline script or style, and production settings ask for
secure cookies and HSTS."""

from __future__ import annotations

import datetime
import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client as WebClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.security.test_permissions_matrix import ADMIN, VIEWS, _kwargs

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


# ---- login throttling ----------------------------------------------------------------------


def test_repeated_failed_logins_lock_the_account_out_even_for_the_right_password():
    UserFactory(username="tess", groups=["therapist"])
    web = WebClient(REMOTE_ADDR="203.0.113.7")
    url = reverse("login")
    limit = django_settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = web.post(url, {"username": "tess", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = web.post(url, {"username": "tess", "password": "wrong"})
    assert locked.status_code in (403, 429)

    response = web.post(url, {"username": "tess", "password": PASSWORD})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in web.session
    assert web.get(reverse("intake:today")).status_code == 302


def test_a_successful_login_before_the_limit_works_and_resets_the_count():
    UserFactory(username="tess", groups=["therapist"])
    web = WebClient(REMOTE_ADDR="203.0.113.8")
    url = reverse("login")
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        web.post(url, {"username": "tess", "password": "wrong"})
    assert web.post(url, {"username": "tess", "password": PASSWORD}).status_code == 302
    assert web.get(reverse("intake:today")).status_code == 200


# ---- idle sessions -------------------------------------------------------------------------


def test_a_session_idle_past_the_limit_is_logged_out_and_activity_keeps_it_alive(therapist):
    idle = datetime.timedelta(seconds=django_settings.SESSION_COOKIE_AGE)
    assert django_settings.SESSION_SAVE_EVERY_REQUEST
    start = timezone.now()
    web = WebClient()
    with time_machine.travel(start, tick=False) as clock:
        assert web.post(reverse("login"), {"username": therapist.username,
                                           "password": PASSWORD}).status_code == 302  # fmt: skip
        # Active every 2/3 of the limit: still logged in after longer than the limit.
        for _ in range(3):
            clock.shift(idle * 2 / 3)
            assert web.get(reverse("intake:today")).status_code == 200
        clock.shift(idle + datetime.timedelta(seconds=1))
        response = web.get(reverse("intake:today"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# ---- CSRF ----------------------------------------------------------------------------------


def test_staff_posts_without_a_csrf_token_are_refused(world, therapist, front_desk):
    therapist_web = WebClient(enforce_csrf_checks=True)
    therapist_web.force_login(therapist)
    before = world.client.intakes.count()
    response = therapist_web.post(
        reverse("intake:visit_cancel", args=[world.visit.pk]), {"cancel-reason": "x"}
    )
    assert response.status_code == 403
    world.visit.refresh_from_db()
    assert world.visit.status == "scheduled"
    assert world.client.intakes.count() == before

    desk = WebClient(enforce_csrf_checks=True)
    desk.force_login(front_desk)
    url = reverse("admin:intake_client_change", args=[world.client.pk])
    assert desk.post(url, {"first_name": "Mallory"}).status_code == 403
    world.client.refresh_from_db()
    assert world.client.first_name == "Ana"

    # With the token from the page, the same kind of POST goes through.
    page = desk.get(url)
    token = page.context["csrf_token"]
    assert desk.post(url, {"csrfmiddlewaretoken": token}).status_code in (200, 302)


def test_the_answer_page_is_guarded_by_its_link_token_not_a_csrf_cookie(world):
    # Browsers post it with `Origin: null` (Referrer-Policy: no-referrer): the token decides.
    web = WebClient(enforce_csrf_checks=True)
    answer = {"score": "3", "character": "dull", "radiating": "no", "note": ""}
    wrong = reverse("followup:answer", args=["B" * 43])
    assert web.post(wrong, answer, HTTP_ORIGIN="null").status_code == 404
    url = reverse("followup:answer", args=[world.token])
    assert web.post(url, answer, HTTP_ORIGIN="null").status_code == 200


# ---- Content-Security-Policy and inline code ---------------------------------------------


class _InlineFinder(HTMLParser):
    """Collect inline <script> bodies, <style> elements, style= and on*= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        if tag == "script":
            self._in_script = "src" not in names
            if names.get("type", "").lower() in ("application/json",):
                self._in_script = False  # data, not code (allowed by CSP too)
        if tag == "style":
            self.found.append("<style> element")
        for name, value in names.items():
            if name == "style":
                self.found.append(f"style= on <{tag}>: {value!r}")
            elif name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            elif name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")


def _html_pages(world, browsers):
    """Yield (what, response) for every page a role can open with GET, and the admin's."""
    roles = {"anonymous": browsers("anonymous"), "therapist": browsers("therapist"),
             "front_desk": browsers("front_desk"), "superuser": browsers("superuser")}  # fmt: skip
    for view, (method, spec, _expected) in sorted(VIEWS.items()):
        if method != "GET":
            continue
        for role in ("anonymous", "therapist", "front_desk"):
            url = reverse(view, kwargs=_kwargs(spec, world, role))
            yield f"{role} {url}", roles[role].get(url)
    for model, (attr, *_) in sorted(ADMIN.items()):
        app, name = model.split(".")
        pk = getattr(world, attr).pk
        for url in (
            reverse(f"admin:{app}_{name}_changelist"),
            reverse(f"admin:{app}_{name}_change", args=[pk]),
        ):
            yield f"superuser {url}", roles["superuser"].get(url)
    yield "admin index", roles["front_desk"].get(reverse("admin:index"))
    yield "admin login", browsers("anonymous").get(reverse("admin:login"))
    yield (
        "answer form errors",
        browsers("anonymous").post(reverse("followup:answer", args=[world.token]), {"score": "11"}),
    )


def test_every_html_page_has_a_strict_csp_and_no_inline_script_or_style(world, browsers):
    problems = []
    pages = 0
    for what, response in _html_pages(world, browsers):
        if "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        policy = response.get("Content-Security-Policy", "")
        directives = dict(
            (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
        )
        if not policy:
            problems.append(f"{what}: no Content-Security-Policy header")
        elif "unsafe-inline" in policy or "unsafe-eval" in policy:
            problems.append(f"{what}: the policy allows unsafe code: {policy}")
        elif "'self'" not in directives.get("script-src", directives.get("default-src", "")):
            problems.append(f"{what}: no script-src 'self' in {policy}")
        elif directives.get("object-src") != "'none'" or "frame-ancestors" not in directives:
            problems.append(f"{what}: object-src/frame-ancestors missing in {policy}")
        finder = _InlineFinder()
        finder.feed(response.content.decode())
        problems += [f"{what}: {item}" for item in finder.found]
    assert pages >= 30
    assert not problems, "\n".join(problems[:40])


# ---- production settings -------------------------------------------------------------------


def _production_env(**extra) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example",
        SITE_URL="https://clinic.example",
        EMAIL_URL="smtp+tls://clinic:password@smtp.clinic.example:587",
        SMS_BACKEND="outbox",
        **extra,
    )
    return env


def test_the_deployment_checklist_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_turn_on_secure_cookies_hsts_and_tls():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True"] * 5, result.stdout + result.stderr


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31_536_000,
)
def test_responses_carry_hsts_and_secure_cookies_over_https(therapist):
    web = WebClient()
    plain = web.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")

    page = web.get(reverse("login"), secure=True)
    assert "max-age=31536000" in page["Strict-Transport-Security"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    login = web.post(
        reverse("login"),
        {"username": therapist.username, "password": PASSWORD},
        secure=True,
    )
    assert login.status_code == 302
    session_cookie = login.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert web.cookies["csrftoken"]["secure"]
