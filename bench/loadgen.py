"""A small, bounded HTTP load generator: threads with http.client, 127.0.0.1 only.

Each simulated user owns one connection and its cookies, runs an optional `prepare` step
(log in, fetch a CSRF token) outside the measured window, then repeats its scenario until
the time is up or the shared budget of operations is spent. One operation may be several
requests (GET then POST of the check-in page); its latency is the whole operation.
"""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MAX_ERRORS_KEPT = 5
LOCAL_HOSTS = ("127.0.0.1", "localhost")  # localhost: the test suite's live server
MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage


class HTTPError(Exception):
    pass


class Session:
    """One user's connection to the server with its cookie jar, kept as a browser keeps it.

    Redirects are not followed (the page after a POST is not what is measured), but what a
    browser would do by showing that page is done: the flash messages it would show, and so
    consume, are dropped from the jar. A cookie the server deletes is deleted.
    """

    def __init__(self, base: str, timeout: float = 30) -> None:
        url = urllib.parse.urlsplit(base)
        if url.hostname not in LOCAL_HOSTS:
            raise ValueError("the load generator only talks to 127.0.0.1")
        self.host, self.port = url.hostname, url.port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.extra_headers: dict[str, str] = {}
        self.location = ""  # the last response's Location header (a redirect's target)

    def request(
        self, method: str, path: str, form: dict | list | None = None, expect=(200,)
    ) -> tuple[int, str]:
        headers = {"Host": f"{self.host}:{self.port}", **self.extra_headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle connection between requests: reconnect once.
                self.conn.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        if 300 <= response.status < 400:
            # The next page would show these messages and clear them (Django's cookie storage).
            self.cookies.pop(MESSAGES_COOKIE, None)
        self.location = response.headers.get("Location", "")
        if response.will_close:
            self.conn.close()
        if response.status not in expect:
            raise HTTPError(f"{method} {path}: HTTP {response.status}: {_excerpt(text)}")
        return response.status, text

    def csrf_from(self, html: str) -> str:
        match = _CSRF_INPUT.search(html)
        if not match:
            raise HTTPError("no csrfmiddlewaretoken in the page")
        return match.group(1)

    def login(self, username: str, password: str) -> None:
        _, html = self.request("GET", "/accounts/login/")
        self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.csrf_from(html),
            },
            expect=(302,),
        )
        if "sessionid" not in self.cookies:
            raise HTTPError("login did not set a session cookie")

    def close(self) -> None:
        self.conn.close()


def _excerpt(text: str, limit: int = 300) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())[:limit]


@dataclass
class LoadResult:
    name: str
    seconds: float
    ops: int
    errors: int
    latencies: list[float] = field(repr=False, default_factory=list)
    error_samples: list[str] = field(default_factory=list)
    stopped_by_budget: bool = False

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]

    def summary(self) -> dict:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 2),
            "ops": self.ops,
            "errors": self.errors,
            "rate_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p95_ms": round(self.percentile(95) * 1000, 2),
            "error_samples": self.error_samples,
            "stopped_by_budget": self.stopped_by_budget,
        }


class Budget:
    """Hand out operation numbers until `limit` (so a run is bounded in count, not only time)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.next = 0
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.limit:
                return None
            self.next += 1
            return self.next - 1


def make_sessions(
    base: str, users: int, prepare: Callable[[Session, int], None] | None = None
) -> list[Session]:
    """Open one session per simulated user and run `prepare` (e.g. log in) on each."""
    sessions = [Session(base) for _ in range(users)]
    for i, session in enumerate(sessions):
        if prepare:
            prepare(session, i)
    return sessions


def run_load(
    name: str,
    sessions: list[Session],
    *,
    seconds: float,
    operation: Callable[[Session, int], None],
    budget: Budget | None = None,
    warmup: float = 2.0,
) -> LoadResult:
    """Run `operation(session, n)` from one thread per session for `seconds` after a warm-up.

    `n` numbers the operations (from `budget`, which may be shared between runs so that each
    prepared item is used once); the run ends early when the budget is spent.
    """
    ops = budget or Budget(1_000_000)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    error_count = 0
    start_at = time.monotonic() + 0.2
    measure_from = start_at + warmup
    stop_at = measure_from + seconds
    exhausted = threading.Event()

    def user(session: Session) -> None:
        nonlocal error_count
        mine: list[float] = []
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            n = ops.take()
            if n is None:
                exhausted.set()
                break
            t0 = time.perf_counter()
            try:
                operation(session, n)
            except Exception as exc:
                with lock:
                    error_count += 1
                    if len(errors) < MAX_ERRORS_KEPT:
                        errors.append(f"{type(exc).__name__}: {exc}"[:400])
                session.conn.close()
                continue
            elapsed = time.perf_counter() - t0
            if measure_from <= now and now + elapsed <= stop_at:
                mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=user, args=(s,), daemon=True) for s in sessions]
    while time.monotonic() < start_at:
        time.sleep(0.01)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + warmup + 120)
    measured_end = min(time.monotonic(), stop_at)
    for session in sessions:
        session.close()  # reopened on the next request; cookies are kept
    # If the budget ran out early, the window ends when it did (the rate stays honest).
    return LoadResult(
        name=name,
        seconds=max(measured_end - measure_from, 1e-9),
        ops=len(latencies),
        errors=error_count,
        latencies=latencies,
        error_samples=errors,
        stopped_by_budget=exhausted.is_set(),
    )
