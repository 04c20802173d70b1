"""Access to the real services for tests: skip without them, fail under REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def missing(reason: str) -> None:
    """Skip the current test, or fail it when CI requires the real services."""
    if REQUIRED:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def require_postgres() -> None:
    """Demand that the test database is PostgreSQL."""
    if connection.vendor != "postgresql":
        missing("this test needs PostgreSQL (set DATABASE_URL=postgres://...)")


def require_redis() -> str:
    """Demand a reachable Redis and return its URL."""
    url = settings.REDIS_URL
    if not url:
        missing("this test needs Redis (set REDIS_URL=redis://...)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing(f"Redis at REDIS_URL is not reachable ({type(exc).__name__})")
    return url


def redis_caches(url: str, **options) -> dict:
    """Return a CACHES setting whose default cache is the app's Redis backend at `url`
    (clinic.cache.RedisCache); `options` are its other keys (KEY_PREFIX, OPTIONS)."""
    return {"default": {"BACKEND": "clinic.cache.RedisCache", "LOCATION": url, **options}}


def require_chromium() -> str:
    """Demand the system Chromium (Debian package `chromium`) and return its path."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        missing("the system Chromium is not installed (apt-get install chromium)")
    return path
