"""A per-address request counter for the pages a link token opens (no login there).

Each kind of link page keeps its own budget (`scope`), counted in the cache (Redis in
production) over a fixed window that starts with the first request.
"""

from __future__ import annotations

import logging

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest

from staff.addresses import client_address

logger = logging.getLogger(__name__)


def over_limit(request: HttpRequest, *, scope: str, requests: int, window: int) -> bool:
    """Count this request for its address in `scope`; return whether it is over `requests`."""
    key = f"{scope}:rate:{client_address(request)}"
    backend = caches[DEFAULT_CACHE_ALIAS]
    try:
        try:
            count = backend.incr(key)
        except ValueError:
            count = 1 if backend.add(key, 1, timeout=window) else backend.incr(key)
    except Exception:
        # The cache (Redis) being down must not stop a client from using their link.
        logger.warning("rate limit cache unavailable; letting the request through")
        return False
    return count > requests
