"""A per-address request counter for the pages a link token opens (no login there).

Each kind of link page keeps its own budget (`scope`), counted in the cache (Redis in
production) over a fixed window that starts with the first request.
"""

from __future__ import annotations

import logging

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from staff.addresses import client_address

logger = logging.getLogger(__name__)


def over_limit(request: HttpRequest, *, scope: str, requests: int, window: int) -> bool:
    """Count this request for its address in `scope`; return whether it is over `requests`."""
    key = f"{scope}:rate:{client_address(request)}"
    try:
        count = count_request(key, window=window)
    except Exception:
        # The cache (Redis) being down must not stop a client from using their link.
        logger.warning("rate limit cache unavailable; letting the request through")
        return False
    return count > requests


def count_request(key: str, *, window: int) -> int:
    """Count a request under `key` in its window and return the count so far.

    The window starts with the first request and later ones never move it. On Redis this
    is one round trip (SET NX with the expiry, then INCR, pipelined); the count stays
    readable through the cache (`cache.get(key)`). Any other cache counts through its
    public API (`add` settles a race between two first requests).
    """
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        stored = backend.make_and_validate_key(key)
        # The backend's own client for writes (clinic.cache keeps one per process).
        pipe = backend._cache.get_client(stored, write=True).pipeline(transaction=False)
        pipe.set(stored, 0, ex=window, nx=True)
        pipe.incr(stored)
        return pipe.execute()[1]
    try:
        return backend.incr(key)
    except ValueError:
        return 1 if backend.add(key, 1, timeout=window) else backend.incr(key)
