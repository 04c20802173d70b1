"""The bench's own services: a dedicated PostgreSQL database, a Redis database, and processes.

Everything started here is stopped here: `Infra.close()` stops every process it started (by
its own process group), drops the bench database and empties the bench Redis database. Only
127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "clinic_bench")
# A Redis database of its own (CI and the tests use /0), emptied before and after the run.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
LOCALHOST = "127.0.0.1"


def _pg_admin():
    import psycopg2
    from psycopg2.extensions import parse_dsn

    dsn = parse_dsn(PG_ADMIN_URL)
    if dsn.get("host") not in (LOCALHOST, "localhost", None):
        raise SystemExit("bench: BENCH_PG_URL must point at 127.0.0.1")
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    return conn


def database_url() -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{DB_NAME}"


def create_database() -> None:
    """Create the bench database, dropping a leftover one from an interrupted run."""
    drop_database()
    conn = _pg_admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        conn.close()


def drop_database() -> None:
    conn = _pg_admin()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [DB_NAME],
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    finally:
        conn.close()


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    if client.connection_pool.connection_kwargs.get("host") not in (LOCALHOST, "localhost"):
        raise SystemExit("bench: BENCH_REDIS_URL must point at 127.0.0.1")
    client.flushdb()
    client.close()


def bench_env(**extra: str) -> dict[str, str]:
    """Return the environment every bench process runs with (production-like settings)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        DEBUG="0",
        SECRET_KEY=_secret_key(),
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        ALLOWED_HOSTS=f"{LOCALHOST},localhost",
        SITE_URL=f"http://{LOCALHOST}:8000",
        BENCH_FLOOR="1",
        # The pages are measured for a signed-in user; the second sign-in step (an
        # authenticator code) is not part of what is measured.
        STAFF_2FA_REQUIRED="0",
        LOG_LEVEL="WARNING",
        EMAIL_URL="memorymail://",
        SMS_BACKEND="locmem",
        FOLLOWUP_QUIET_HOURS="none",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


_SECRET = None


def _secret_key() -> str:
    global _SECRET
    _SECRET = _SECRET or os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(64)
    return _SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


class Infra:
    """Own every process and the database of one bench run; `close()` undoes all of it."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
        self.db_created = False

    def setup_database(self) -> None:
        create_database()
        self.db_created = True
        flush_redis()

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start a process in its own process group, logging to a file under the temp dir."""
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc._bench_log = log  # type: ignore[attr-defined]
        self.procs.append((name, proc))
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.tmp / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen, timeout: float = 15) -> None:
        """Stop one process and its children (its own process group): TERM, then KILL."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        else:
            # The leader is gone; make sure no child of its group is left behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc._bench_log.close()  # type: ignore[attr-defined]
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def start_gunicorn(
        self, env: dict[str, str], app: str = "clinic.wsgi:application", workers: int = 2
    ) -> str:
        """Start gunicorn on a free 127.0.0.1 port and return its base URL once it answers."""
        port = free_port()
        proc = self.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                app,
                "--bind",
                f"{LOCALHOST}:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            env,
        )
        self.gunicorn = proc
        base = f"http://{LOCALHOST}:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_tail("gunicorn"))
            try:
                with urllib.request.urlopen(base + "/health/", timeout=2) as response:
                    if response.status == 200:
                        return base
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(
            "gunicorn did not answer /health/ in 60 s:\n" + self.log_tail("gunicorn")
        )

    def close(self) -> None:
        for _name, proc in list(reversed(self.procs)):
            self.stop(proc)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        if self.db_created:
            drop_database()
            self.db_created = False
        try:
            flush_redis()
        except Exception as exc:
            print(f"bench: could not empty the bench Redis database: {exc}", file=sys.stderr)
