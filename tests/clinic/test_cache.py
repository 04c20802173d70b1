"""The Redis cache backend (clinic.cache): Django's, with one client per connection pool."""

from __future__ import annotations

import pytest
import redis
from django.core.cache import caches

from tests.services import redis_caches, require_redis


@pytest.fixture
def redis_cache(settings):
    url = require_redis()
    settings.CACHES = redis_caches(url, KEY_PREFIX="test-cache-backend")
    backend = caches["default"]
    yield backend
    backend.delete_many(["a", "b", "n"])


def test_every_call_uses_the_one_client_of_its_pool(redis_cache, monkeypatch):
    made = []
    init = redis.Redis.__init__
    monkeypatch.setattr(
        redis.Redis, "__init__", lambda self, *a, **k: made.append(1) or init(self, *a, **k)
    )

    redis_cache.set("a", {"groups": ["therapist"]}, timeout=30)
    redis_cache.add("b", 1, timeout=30)
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": {"groups": ["therapist"]}, "b": 1}
    assert redis_cache.incr("b") == 2
    assert redis_cache.get("a") == {"groups": ["therapist"]}
    redis_cache.delete("a")
    assert redis_cache.get("a", "gone") == "gone"

    assert len(made) == 1
    client = redis_cache._cache.get_client(write=True)
    assert client is redis_cache._cache.get_client(write=False)
    assert client.connection_pool is redis_cache._cache._get_connection_pool(True)


def test_values_are_stored_as_djangos_redis_cache_stores_them(redis_cache):
    # The same keys and serialisation as Django's own backend: either can read the other's.
    from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

    plain = DjangoRedisCache(redis_cache._servers, {"KEY_PREFIX": "test-cache-backend"})
    redis_cache.set("n", [1, "two"], timeout=30)
    assert plain.get("n") == [1, "two"]
    plain.set("n", {"three": 3}, timeout=30)
    assert redis_cache.get("n") == {"three": 3}


def test_a_server_that_is_down_still_raises_for_the_caller_to_handle(settings):
    # Nothing listens on port 1: the callers (the role cache, the rate limit) fall back.
    settings.CACHES = redis_caches("redis://127.0.0.1:1/0")
    with pytest.raises(redis.ConnectionError):
        caches["default"].get("a")
