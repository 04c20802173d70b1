"""Helpers for tests that run the real stack: an SMTP sink, subprocesses, bounded waits.

Used by tests/integration (celery worker and beat, gunicorn, SMTP) and tests/browser.
Everything here is bounded in time: a wait that does not succeed raises with what it saw.
"""

from __future__ import annotations

import atexit
import contextlib
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# A long, fixed key: the subprocesses run with DEBUG off, which demands 50+ characters.
SECRET_KEY = "integration-tests-only-" + "k" * 48
LOG_TAIL_CHARS = 6000


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.2,
    message: str | Callable[[], str] = "condition",
):
    """Poll `predicate` until it returns something truthy; raise AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {text}")
        time.sleep(interval)


def artifacts_dir(name: str) -> Path:
    """Return (and create) test-artifacts/<name>/ for logs and screenshots."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120]
    path = ARTIFACTS / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---- SMTP sink ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted: the envelope recipients and the parsed message."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"] or "")

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """Return the plain-text body (decoded)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"')]+", self.text)


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.sink._add(ReceivedMail(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._lock = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._controller = Controller(
            _SinkHandler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, RuntimeError):  # already stopped
            self._controller.stop()

    def _add(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)
            self._lock.notify_all()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def matching(self, predicate: Callable[[ReceivedMail], bool]) -> list[ReceivedMail]:
        return [m for m in self.messages if predicate(m)]

    def wait_for(
        self,
        predicate: Callable[[ReceivedMail], bool] = lambda m: True,
        timeout: float = 30,
        count: int = 1,
    ) -> list[ReceivedMail]:
        """Wait until at least `count` messages match; return the matches (oldest first)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self._messages if predicate(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = [(m.rcpt_tos, m.subject) for m in self._messages]
                    raise AssertionError(
                        f"timed out after {timeout:.0f}s waiting for {count} matching "
                        f"message(s); found {len(found)}; the sink holds {summary}"
                    )
                self._lock.wait(left)

    def describe(self) -> str:
        lines = [f"{len(self.messages)} message(s) at the SMTP sink:"]
        for m in self.messages:
            lines.append(f"  to={list(m.rcpt_tos)} subject={m.subject!r}")
        return "\n".join(lines)


# ---- subprocesses ------------------------------------------------------------------------

_RUNNING: set[Service] = set()


@dataclass(eq=False)
class Service:
    """One subprocess in its own process group, with its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    # The signal that stops it: SIGTERM is celery's warm shutdown; gunicorn's quick one is
    # SIGINT (its SIGTERM waits for idle keep-alive connections).
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 (the child keeps writing to it)
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop it and all its children
        )
        log.close()
        _RUNNING.add(self)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match:
        """Wait until the log matches `pattern` (a regex); fail early if the process dies."""

        def seen():
            match = re.search(pattern, self.log())
            if match:
                return match
            if not self.alive:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} before logging "
                    f"{pattern!r}:\n{self.tail()}"
                )
            return None

        return wait_until(
            seen,
            timeout=timeout,
            message=lambda: f"{self.name} to log {pattern!r}:\n{self.tail()}",
        )

    def tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        text = self.log()
        return text if len(text) <= chars else "...\n" + text[-chars:]

    def stop(self, timeout: float = 10) -> None:
        """Terminate the process group, then kill it if it has not gone within `timeout`."""
        _RUNNING.discard(self)
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        # The leader is gone; make sure no child (a prefork pool process) outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def send_signal(self, sig: int) -> None:
        """Signal the whole process group (start_new_session: its id is the leader's pid)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)


def stop_all(services: Iterable[Service], timeout: float = 10) -> None:
    """Stop several services at once: SIGTERM to all, then each stops within `timeout`."""
    services = list(services)
    for service in services:
        service.send_signal(service.stop_signal)
    for service in services:
        service.stop(timeout=timeout)


@atexit.register
def _stop_leftovers() -> None:
    # A test run interrupted between start and teardown must not leave processes behind.
    stop_all(list(_RUNNING), timeout=3)


def ensure_staff_groups() -> None:
    """Create the staff groups if a transactional test's flush removed them."""
    from staff.roles import ensure_staff_groups as ensure

    ensure()


def portable_password_hash(raw: str) -> str:
    """Return a password hash that a subprocess with the production hashers can check.

    The tests' settings hash with MD5 for speed, which the app's own processes refuse. A
    PBKDF2 hash with few iterations is accepted by them (and upgraded on the first login).
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.utils.crypto import get_random_string

    return PBKDF2PasswordHasher().encode(raw, get_random_string(16), iterations=1000)


def database_url(settings_dict: dict) -> str:
    """Return a postgres:// URL for a Django DATABASES entry (e.g. the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def redis_url_with_db(url: str, db: int) -> str:
    """Return the Redis URL pointing at database number `db`."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def stack_env(overrides: dict[str, str]) -> dict[str, str]:
    """Return an explicit environment for a subprocess of the app: no inherited app settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FOLLOWUP_QUIET_HOURS": "none",
            "SMS_BACKEND": "outbox",  # console is refused with DEBUG off
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


def python_module(module: str, *args: str) -> list[str]:
    """Return argv running `python -m module args` with the interpreter running the tests."""
    return [sys.executable, "-m", module, *args]


def services_summary(services: Iterable[Service]) -> str:
    parts = []
    for service in services:
        state = "running" if service.alive else f"exited {service.proc and service.proc.returncode}"
        parts.append(f"===== {service.name} ({state}), log {service.log_path} =====\n")
        parts.append(service.tail() + "\n")
    return "".join(parts)


HTTP_TIMEOUT = 15
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _explain(response: requests.Response, what: str) -> str:
    # Show the page's error messages, not 30 kB of HTML.
    errors = re.findall(
        r'class="[^"]*(?:invalid-feedback|alert-danger|errorlist|errornote)[^"]*"[^>]*>(.*?)</(?:div|p|ul)>',
        response.text,
        re.S,
    )
    errors = [re.sub(r"<[^>]+>|\s+", " ", e).strip() for e in errors]
    return (
        f"{what} answered {response.status_code} "
        f"(Location: {response.headers.get('Location')}); errors on the page: {errors}"
    )


class Browser:
    """A requests.Session that fills in forms the way a person's browser would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "integration-test"

    def get(self, path: str, expect: int = 200) -> requests.Response:
        response = self.session.get(self._url(path), timeout=HTTP_TIMEOUT, allow_redirects=False)
        assert response.status_code == expect, _explain(response, f"GET {path}")
        return response

    def submit(
        self, path: str, data: dict, *, form_page: str | None = None, expect: int = 302
    ) -> requests.Response:
        """GET the form page for its CSRF token, then POST `data` to `path`."""
        page = self.get(form_page or path)
        token = CSRF_INPUT.search(page.text)
        assert token, f"no CSRF token on {form_page or path}"
        response = self.session.post(
            self._url(path),
            data={"csrfmiddlewaretoken": token.group(1), **data},
            timeout=HTTP_TIMEOUT,
            allow_redirects=False,
        )
        assert response.status_code == expect, _explain(response, f"POST {path}")
        return response

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"
