"""The Redis cache backend: Django's, with one Redis client per connection pool.

Django's RedisCache builds a new `redis.Redis` for every cache call, and building one copies
its table of reply parsers (about 170 entries): on every staff page, which reads the user's
groups from the cache (staff/role_cache.py), that cost more than the round trip itself. A
client is safe to share between threads and keeps no state of its own besides its pool, and
the pool reconnects after a fork (redis-py checks the process id), so one per pool is enough.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as _DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(_DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
