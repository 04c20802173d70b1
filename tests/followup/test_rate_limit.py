from __future__ import annotations

import pytest
from django.urls import reverse

from followup import views

pytestmark = pytest.mark.django_db


def test_token_pages_are_rate_limited_per_client_ip(client):
    url = reverse("followup:answer", args=["x" * 43])
    for _ in range(views.RATE_LIMIT_REQUESTS):
        assert client.get(url, REMOTE_ADDR="203.0.113.5").status_code == 404

    limited = client.get(url, REMOTE_ADDR="203.0.113.5")
    other_ip = client.get(url, REMOTE_ADDR="203.0.113.6")

    assert limited.status_code == 429
    assert b"Please wait a few minutes" in limited.content
    assert limited["Referrer-Policy"] == "no-referrer"
    assert limited["Cache-Control"] == "no-store"
    assert other_ip.status_code == 404


def test_the_limit_counts_opt_out_and_answer_pages_together(client):
    answer = reverse("followup:answer", args=["x" * 43])
    opt_out = reverse("followup:opt_out", args=["x" * 43])
    for i in range(views.RATE_LIMIT_REQUESTS):
        client.get(answer if i % 2 else opt_out)

    assert client.post(opt_out).status_code == 429


def test_the_window_resets_after_it_passes(client, frozen, settings):
    import datetime

    # Frozen time moves the local-memory cache's clock (Redis keeps its own).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "rate-limit-window",
        }
    }

    url = reverse("followup:answer", args=["x" * 43])
    for _ in range(views.RATE_LIMIT_REQUESTS + 1):
        client.get(url)
    frozen.shift(datetime.timedelta(seconds=views.RATE_LIMIT_WINDOW + 1))

    assert client.get(url).status_code == 404


def test_on_redis_each_request_is_counted_in_one_round_trip(client, settings, monkeypatch):
    import redis

    from tests.services import redis_caches, require_redis

    url = require_redis()
    settings.CACHES = redis_caches(url, KEY_PREFIX="test-rate-limit")
    trips = []
    execute = redis.client.Pipeline.execute
    command = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.client.Pipeline, "execute", lambda self, *a, **k: trips.append(1) or execute(self)
    )
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *a, **k: trips.append(1) or command(self, *a)
    )
    from django.core.cache import cache

    cache.delete("followup:rate:203.0.113.9")
    page = reverse("followup:answer", args=["x" * 43])

    trips.clear()
    for _ in range(views.RATE_LIMIT_REQUESTS):
        assert client.get(page, REMOTE_ADDR="203.0.113.9").status_code == 404
    # One round trip a request: SET NX with the window's expiry and INCR, pipelined.
    assert len(trips) == views.RATE_LIMIT_REQUESTS
    assert client.get(page, REMOTE_ADDR="203.0.113.9").status_code == 429

    # The window started with the first request and is not moved by the later ones.
    assert cache.get("followup:rate:203.0.113.9") == views.RATE_LIMIT_REQUESTS + 1
    stored = cache.make_and_validate_key("followup:rate:203.0.113.9")
    ttl = redis.Redis.from_url(url).ttl(stored)
    assert 0 < ttl <= views.RATE_LIMIT_WINDOW
    cache.delete("followup:rate:203.0.113.9")


def test_a_cache_that_is_down_never_stops_a_client(client, settings, caplog):
    # Nothing listens on port 1: every count fails at once, and the page is served.
    from tests.services import redis_caches

    settings.CACHES = redis_caches("redis://127.0.0.1:1/0")
    url = reverse("followup:answer", args=["x" * 43])
    codes = {client.get(url).status_code for _ in range(views.RATE_LIMIT_REQUESTS + 1)}

    assert codes == {404}
    assert "rate limit cache unavailable" in caplog.text
