"""The environment of the stack's processes: paths, free ports, URLs, settings, staff groups."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# A long, fixed key: the subprocesses run with DEBUG off, which demands 50+ characters.
SECRET_KEY = "integration-tests-only-" + "k" * 48


def worker_redis_databases(environ) -> dict[str, str]:
    """Return the Redis settings of this pytest-xdist worker (PYTEST_XDIST_WORKER=gwN).

    Each test empties the Redis databases it uses (the cache's, REDIS_URL; the integration
    stack's, INTEGRATION_REDIS_DB), so workers running at once must not share them: the first
    worker (or a run without workers) keeps both, each other worker takes the next two
    numbers neither of those uses. A broker on the same Redis database follows REDIS_URL.
    """
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    n = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    url = environ.get("REDIS_URL", "")
    if n == 0 or not url:
        return {}
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    integration = int(environ.get("INTEGRATION_REDIS_DB", "5"))
    free = [db for db in range(16) if db not in (base, integration)]
    mine, its_integration = free[(2 * n - 2) % len(free)], free[(2 * n - 1) % len(free)]
    changed = {
        "REDIS_URL": urlunsplit((*parts[:2], f"/{mine}", parts.query, "")),
        "INTEGRATION_REDIS_DB": str(its_integration),
    }
    if environ.get("CELERY_BROKER_URL") == url:
        changed["CELERY_BROKER_URL"] = changed["REDIS_URL"]
    return changed


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def artifacts_dir(name: str) -> Path:
    """Return (and create) test-artifacts/<name>/ for logs and screenshots."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120]
    path = ARTIFACTS / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


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
