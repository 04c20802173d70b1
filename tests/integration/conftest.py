"""The real stack for integration tests: gunicorn, celery worker and beat, an SMTP sink.

A test asks for `stack`, then starts what it needs:

    stack.start(web=True, worker=True, beat=True)
    stack.sink.wait_for(lambda m: "tess@" in m.to, timeout=30)

Every process gets an explicit environment: the pytest-django *test* database (so the test
must commit its data: `stack` makes the test transactional), a dedicated Redis database
flushed at start, EMAIL_URL pointing at the sink, seconds-long follow-up offsets, a 1 s
dispatch tick (FOLLOWUP_TICK_SECONDS, which CELERY_BEAT_SCHEDULE uses) and SITE_URL pointing
at the web process. Processes run in their own process groups, are always stopped in
teardown, and log to test-artifacts/<test>/; a failing test prints the log tails.

Without PostgreSQL or Redis the tests skip (and fail under REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import require_postgres, require_redis
from tests.support.environment import (
    artifacts_dir,
    database_url,
    ensure_staff_groups,
    free_port,
    redis_url_with_db,
    stack_env,
)
from tests.support.processes import Service, python_module, services_summary, stop_all, wait_until
from tests.support.smtp import SmtpSink

# Offsets of the three check-ins and the dispatch tick, in seconds (short: the whole flow
# finishes in well under a minute).
OFFSETS = os.environ.get("INTEGRATION_FOLLOWUP_OFFSETS", "5s,10s,15s")
TICK_SECONDS = os.environ.get("INTEGRATION_TICK_SECONDS", "1")
REDIS_DB = int(os.environ.get("INTEGRATION_REDIS_DB", "5"))
START_TIMEOUT = 45  # seconds for a process to be ready (a cold Django import on 2 cores)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(node) -> bool:
    return any(
        getattr(node, f"rep_{when}", None) is not None and getattr(node, f"rep_{when}").failed
        for when in ("setup", "call")
    )


class Stack:
    """The processes of one integration test and the environment they share."""

    def __init__(self, *, artifacts: Path, sink: SmtpSink, env: dict[str, str]) -> None:
        self.artifacts = artifacts
        self.sink = sink
        self.env = env
        self.web_port = int(env["_WEB_PORT"])
        self.base_url = env["SITE_URL"]
        self.services: dict[str, Service] = {}

    # -- starting ------------------------------------------------------------------------

    def start(
        self,
        *,
        web: bool = True,
        worker: bool = True,
        beat: bool = True,
        pool: str = "prefork",
        concurrency: int = 2,
    ) -> Stack:
        """Start the wanted processes together, then wait until each is ready."""
        if web:
            self._spawn("web", self.web_argv(), stop_signal=signal.SIGINT)
        if worker:
            self._spawn("worker", self.worker_argv(pool=pool, concurrency=concurrency))
        if beat:
            self._spawn("beat", self.beat_argv())
        if worker:
            self.services["worker"].wait_for_log(r"@\S+ ready\.", START_TIMEOUT)
        if beat:
            self.services["beat"].wait_for_log(r"beat: Starting\.\.\.", START_TIMEOUT)
        if web:
            wait_until(
                self._web_answers,
                timeout=START_TIMEOUT,
                message=lambda: f"gunicorn to answer /health/:\n{self.services['web'].tail()}",
            )
        return self

    def web_argv(self) -> list[str]:
        return python_module(
            *["gunicorn", "clinic.wsgi:application"],
            *["--bind", f"127.0.0.1:{self.web_port}"],
            *["--workers", "2", "--threads", "2"],
            *["--timeout", "30", "--graceful-timeout", "3"],
            *["--access-logfile", "-", "--error-logfile", "-"],
        )

    def worker_argv(self, *, pool: str = "prefork", concurrency: int = 2) -> list[str]:
        argv = python_module(
            *["celery", "-A", "clinic", "worker", "--loglevel", "INFO"],
            *["--pool", pool],
            *["--hostname", f"integration-{self.web_port}@%h"],
            # The probe tasks of test_harness.py, next to the app's own.
            *["--include", "tests.integration.probe_tasks"],
            # Gossip, mingle and heartbeats only slow a lone test worker's start.
            *["--without-gossip", "--without-mingle", "--without-heartbeat"],
        )
        if pool == "prefork":
            argv += ["--concurrency", str(concurrency)]
        return argv

    def beat_argv(self) -> list[str]:
        return python_module(
            *["celery", "-A", "clinic", "beat", "--loglevel", "INFO"],
            *["--schedule", str(self.artifacts / "celerybeat-schedule")],
            *["--pidfile", str(self.artifacts / "celerybeat.pid")],
        )

    def _spawn(self, name: str, argv: list[str], stop_signal: int = signal.SIGTERM):
        service = Service(
            name=name,
            argv=argv,
            env=dict(self.env),
            log_path=self.artifacts / f"{name}.log",
            stop_signal=stop_signal,
        )
        self.services[name] = service.start()
        return service

    def _web_answers(self) -> bool:
        import requests

        web = self.services["web"]
        if not web.alive:
            raise AssertionError(f"gunicorn exited:\n{web.tail()}")
        try:
            requests.get(f"{self.base_url}/health/", timeout=2)
        except requests.RequestException:
            return False
        return True

    # -- using ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def send_task(self, name: str, *args, **kwargs):
        """Publish a task by name to the stack's broker (not the pytest process's)."""
        from clinic.celery import app

        with app.connection_for_write(self.env["REDIS_URL"]) as conn:
            return app.send_task(name, args=args, kwargs=kwargs, connection=conn)

    def logs(self) -> str:
        return services_summary(self.services.values())

    def stop(self) -> None:
        stop_all(self.services.values())


@pytest.fixture
def artifacts(request) -> Path:
    return artifacts_dir(request.node.nodeid.replace("tests/", "", 1))


@pytest.fixture
def smtp_sink(request) -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    if _failed(request.node):
        print(sink.describe())
    sink.stop()


@pytest.fixture
def stack(request, transactional_db, smtp_sink, artifacts) -> Iterator[Stack]:
    """An unstarted Stack on the test database; every process it starts is stopped after."""
    # transactional_db: the subprocesses only see committed rows.
    require_postgres()
    ensure_staff_groups()
    redis_url = redis_url_with_db(require_redis(), REDIS_DB)
    import redis

    broker = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    broker.flushdb()

    from django.db import connection

    web_port = free_port()
    env = stack_env(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": redis_url,
            "EMAIL_URL": smtp_sink.url,
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "FOLLOWUP_OFFSETS": OFFSETS,
            "FOLLOWUP_TICK_SECONDS": TICK_SECONDS,
            "FOLLOWUP_QUIET_HOURS": "none",
            "CLINIC_NAME": "Integration Clinic",
            # Two-factor sign-in is not under test on the stack (see tests/conftest.py).
            "STAFF_2FA_REQUIRED": "0",
            "_WEB_PORT": str(web_port),
        }
    )
    (artifacts / "env.txt").write_text(
        "".join(f"{k}={v}\n" for k, v in sorted(env.items()) if k != "SECRET_KEY")
    )
    stack = Stack(artifacts=artifacts, sink=smtp_sink, env=env)
    try:
        yield stack
    finally:
        stack.stop()
        if _failed(request.node):
            print(stack.logs())
        broker.flushdb()
        broker.close()
        # Subprocess connections are gone; make sure ours does not keep a stale transaction.
        connection.close()


def first_link(text: str, path_fragment: str) -> str:
    """Return the first http(s) link in `text` whose path contains `path_fragment`."""
    for link in re.findall(r"https?://[^\s<>\"')]+", text):
        if path_fragment in link:
            return link
    raise AssertionError(f"no link containing {path_fragment!r} in:\n{text}")
