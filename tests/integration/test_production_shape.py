"""The production shape without Docker: Caddy (HTTPS) -> gunicorn, a Celery worker and beat.

Every process is started with the command docker-compose.yml gives it (tests/support/proxy.py
reads them), on PostgreSQL and Redis from the environment, with DEBUG off and the
environment compose sets (BEHIND_PROXY, TRUSTED_PROXIES as the proxy's address). Caddy runs
the repository's Caddyfile for https://localhost:<port>, with a certificate from its internal
CA. Chromium then works through the proxy as staff and client would: a therapist logs in and
completes a visit, the check-in email arrives at the SMTP sink, the client answers it over
HTTPS. Every compose health check passes against the running processes, beat's included.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from followup.models import CheckIn, CheckInAnswer, CheckInStatus
from intake.models import Visit, VisitStatus
from intake.services import visit_schedule
from tests.factories import ClientFactory, IntakeFactory, UserFactory
from tests.services import missing, require_chromium, require_postgres, require_redis
from tests.support import environment, processes, proxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS_DB = int(os.environ.get("INTEGRATION_REDIS_DB", "5"))
PASSWORD = "correct horse battery"
START_TIMEOUT = 60
MAIL_TIMEOUT = 60
ANSWER_LINK = re.compile(r"https://\S+/f/[A-Za-z0-9_-]+/(?=\s|$)")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"]


class ProductionShape:
    """The running processes and what a test needs to reach them."""

    def __init__(self, *, artifacts: Path, env: dict[str, str], site_url: str, http_port: int):
        self.artifacts = artifacts
        self.env = env
        self.site_url = site_url
        self.http_port = http_port
        self.services: dict[str, processes.Service] = {}

    @property
    def root_certificate(self) -> str:
        return str(proxy.caddy_root_certificate(self.artifacts))

    def healthcheck(self, name: str) -> subprocess.CompletedProcess:
        """Run the compose health check of one service against the running process."""
        return subprocess.run(
            proxy.healthcheck_argv(name),
            cwd=proxy.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


def _app_env(*, database_url: str, redis_url: str, sink_url: str, site_url: str, web_port: int):
    env = {k: os.environ[k] for k in ("HOME", "LANG", "TZ") if k in os.environ}
    # `python` in bin/clinic is this virtualenv's, as it is the image's in the container.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env.update(proxy.app_environment())  # DEBUG=0, BEHIND_PROXY=1...
    env.update(
        # What compose gives through its service names and networks, here on this machine:
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TRUSTED_PROXIES="127.0.0.1",  # Caddy's address as gunicorn sees it
        WEB_BIND=f"127.0.0.1:{web_port}",
        # What .env holds:
        SECRET_KEY=environment.SECRET_KEY,
        SITE_URL=site_url,
        ALLOWED_HOSTS="localhost",
        EMAIL_URL=sink_url,
        SMS_BACKEND="outbox",
        CLINIC_NAME="Production Shape Clinic",
        FOLLOWUP_OFFSETS="5s,10s,15s",
        FOLLOWUP_QUIET_HOURS="none",
        FOLLOWUP_TICK_SECONDS="1",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def production(request, transactional_db, smtp_sink, artifacts, tmp_path):
    require_postgres()
    redis_url = environment.redis_url_with_db(require_redis(), REDIS_DB)
    require_chromium()
    import redis
    from django.db import connection

    broker = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    broker.flushdb()
    web_port, https_port, http_port, admin_port = (environment.free_port() for _ in range(4))
    site_url = f"https://localhost:{https_port}"
    env = _app_env(
        database_url=environment.database_url(connection.settings_dict),
        redis_url=redis_url,
        sink_url=smtp_sink.url,
        site_url=site_url,
        web_port=web_port,
    )
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    shape = ProductionShape(artifacts=artifacts, env=env, site_url=site_url, http_port=http_port)
    try:
        # compose's one-shot migrate, which web, worker and beat wait for.
        migrate = subprocess.run(
            proxy.service_argv("migrate"),
            cwd=proxy.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        for name in ("web", "worker", "beat"):
            shape.services[name] = processes.Service(
                name=name,
                argv=proxy.service_argv(name),
                env=env,
                log_path=artifacts / f"{name}.log",
            ).start()
        shape.services["caddy"] = proxy.start_caddy(
            artifacts=artifacts,
            site_url=site_url,
            http_port=http_port,
            admin_port=admin_port,
            upstream=f"127.0.0.1:{web_port}",
        )
        shape.services["worker"].wait_for_log(r"celery@\S+ ready\.", START_TIMEOUT)
        shape.services["beat"].wait_for_log(r"beat: Starting\.\.\.", START_TIMEOUT)
        processes.wait_until(
            lambda: _answers(f"{site_url}/health/", shape),
            timeout=START_TIMEOUT,
            message=lambda: (
                "the site to answer through Caddy:\n"
                + processes.services_summary(shape.services.values())
            ),
        )
        yield shape
    finally:
        processes.stop_all(shape.services.values())
        if any(getattr(request.node, f"rep_{w}", None) and getattr(request.node, f"rep_{w}").failed
               for w in ("setup", "call")):  # fmt: skip
            print(processes.services_summary(shape.services.values()))
        broker.flushdb()
        broker.close()
        connection.close()


def _answers(url: str, shape: ProductionShape) -> bool:
    for service in shape.services.values():
        if not service.alive:
            raise AssertionError(f"{service.name} exited:\n{service.tail()}")
    try:
        return requests.get(url, timeout=3, verify=shape.root_certificate).status_code == 200
    except (requests.RequestException, OSError):
        return False


def _authenticator(user) -> TOTP:
    """Give `user` a confirmed authenticator app, as set up at their first sign-in."""
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    return TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)


def log_in(page, site_url: str, username: str, password: str, app: TOTP) -> None:
    """Sign in through the staff login page, then the second step with the app's code
    (DEBUG is off, so two-factor sign-in is required, as in production)."""
    page.goto(f"{site_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, "the login was refused"
    assert "/accounts/two-factor/" in page.url, "no second sign-in step: " + page.url
    app.time = time.time()
    page.fill("#id_token", f"{app.token():06d}")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/accounts/two-factor/" not in page.url, "the code was refused"


def _visit_for_today(therapist) -> Visit:
    client = ClientFactory(first_name="Robin", last_name="Hale", email="robin.hale@example.com")
    IntakeFactory(client=client, entered_by=therapist)
    return visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=timezone.now(),
        planned_modality="swedish",
        focus_regions=["neck"],
        by=therapist,
    )


def test_through_caddy_a_visit_is_completed_and_its_check_in_answered_over_https(
    production, smtp_sink, monkeypatch
):
    site = production.site_url
    therapist = UserFactory(username="tess", groups=["therapist"], email="tess@clinic.test")
    therapist.password = environment.portable_password_hash(PASSWORD)
    therapist.save(update_fields=["password"])
    app = _authenticator(therapist)
    visit = _visit_for_today(therapist)

    # -- TLS from Caddy's internal CA for localhost; plain HTTP only redirects --------------
    health = requests.get(f"{site}/health/", timeout=10, verify=production.root_certificate)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["database"]["detail"] == "postgresql"
    # DEBUG is off and Django saw HTTPS through X-Forwarded-Proto (no redirect loop): HSTS.
    assert "max-age=" in health.headers["Strict-Transport-Security"]
    plain = requests.get(
        f"http://localhost:{production.http_port}/health/", timeout=10, allow_redirects=False
    )
    assert plain.status_code == 308
    assert plain.headers["Location"] == f"{site}/health/"

    # -- Chromium over HTTPS: the therapist completes the visit ---------------------------
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=require_chromium(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            # Caddy's internal CA is not in Chromium's trust store; requests above checked
            # the certificate against that CA's root.
            context = browser.new_context(ignore_https_errors=True, locale="en-GB")
            context.set_default_timeout(20_000)
            page = context.new_page()
            log_in(page, site, "tess", PASSWORD, app)
            page.goto(f"{site}/visits/{visit.pk}/")
            page.select_option("#id_performed_modality", "swedish")
            with page.expect_navigation():
                page.click("button:has-text('Complete')")
            assert page.locator(".alert-success", has_text="Visit completed").is_visible()
            page.screenshot(path=str(production.artifacts / "visit-completed.png"))
            visit.refresh_from_db()
            assert visit.status == VisitStatus.COMPLETED

            # -- the check-in goes out (beat -> worker -> SMTP) with an HTTPS link ----------
            mail = smtp_sink.wait_for(
                lambda m: "robin.hale@example.com" in m.rcpt_tos, timeout=MAIL_TIMEOUT
            )[0]
            link = ANSWER_LINK.search(mail.text)
            assert link, mail.text
            assert link.group(0).startswith(f"{site}/f/")

            # -- the client answers on a phone-sized page, through the proxy ----------------
            phone = browser.new_context(
                ignore_https_errors=True, viewport={"width": 390, "height": 844}, is_mobile=True
            )
            answer_page = phone.new_page()
            answer_page.goto(link.group(0))
            for name, value in (("score", "2"), ("character", "stiffness"), ("radiating", "no")):
                radio = answer_page.locator(f'input[name="{name}"][value="{value}"]')
                answer_page.click(f'label[for="{radio.get_attribute("id")}"]')
            with answer_page.expect_navigation():
                answer_page.click("button:has-text('Send my answers')")
            assert answer_page.locator("h1").inner_text() == "Thank you for your answers"
            answer_page.screenshot(path=str(production.artifacts / "checkin-answered.png"))
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()

    first = CheckIn.objects.filter(visit=visit).order_by("offset_seconds").first()
    assert first.status == CheckInStatus.ANSWERED
    answer = CheckInAnswer.objects.get(checkin=first)
    assert (answer.score, answer.character, answer.radiating) == (2, "stiffness", False)

    # -- every compose health check passes against the running processes -------------------
    for name in ("web", "worker"):
        result = production.healthcheck(name)
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
    # Beat's heartbeat runs every 30 s; the first one may still be on its way.
    beat = processes.wait_until(
        lambda: (result := production.healthcheck("beat")).returncode == 0 and result,
        timeout=90,
        interval=5,
        message=lambda: f"beat's health check:\n{production.healthcheck('beat').stderr}",
    )
    assert "beat ok" in beat.stdout


class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """An upstream that answers with the request line and headers it received, as JSON."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_caddyfile_sets_the_forwarded_headers_itself_whatever_a_client_sends(artifacts):
    """What the app is told about the client (address, scheme) cannot be forged by it."""
    if not shutil.which("caddy"):
        missing("caddy is not installed (apt-get install caddy)")
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    https_port, http_port, admin_port = (environment.free_port() for _ in range(3))
    site_url = f"https://localhost:{https_port}"
    caddy = proxy.start_caddy(
        artifacts=artifacts,
        site_url=site_url,
        http_port=http_port,
        admin_port=admin_port,
        upstream=f"127.0.0.1:{upstream.server_address[1]}",
    )
    root = str(proxy.caddy_root_certificate(artifacts))
    try:
        processes.wait_until(
            lambda: _echo(f"{site_url}/ready", root),
            timeout=START_TIMEOUT,
            message=lambda: f"Caddy to answer:\n{caddy.tail()}",
        )
        seen = requests.get(
            f"{site_url}/f/abc/?x=1",
            headers={
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "http",
                "X-Forwarded-Host": "evil.example",
            },
            timeout=10,
            verify=root,
        ).json()
    finally:
        caddy.stop()
        upstream.shutdown()
    headers = seen["headers"]
    assert seen["path"] == "/f/abc/?x=1"
    assert headers["X-Forwarded-For"] == "127.0.0.1"  # the address Caddy saw, nothing else
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["Host"] == f"localhost:{https_port}"
    assert headers["X-Forwarded-Host"] == f"localhost:{https_port}"


def _echo(url: str, root_certificate: str) -> bool:
    try:
        return requests.get(url, timeout=3, verify=root_certificate).status_code == 200
    except (requests.RequestException, OSError):
        return False
