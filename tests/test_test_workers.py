"""The test workers of `make test` (pytest-xdist) never share a Redis database: each test
empties the ones it uses, so two workers sharing one would empty each other's mid-test."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.support.environment import worker_redis_databases


def _databases(environ: dict) -> tuple[int, int]:
    settings = environ | worker_redis_databases(environ)
    path = urlsplit(settings["REDIS_URL"]).path.strip("/")
    return int(path or 0), int(settings["INTEGRATION_REDIS_DB"])


@pytest.mark.parametrize(
    ("url", "base", "integration"),
    [
        ("redis://127.0.0.1:6379/0", 0, "5"),  # CI's
        ("redis://127.0.0.1:6379/15", 15, "5"),
        ("redis://127.0.0.1:6379/1", 1, "0"),
        ("redis://127.0.0.1:6379", 0, "1"),  # no number: database 0
    ],
)
def test_each_worker_has_redis_databases_no_other_worker_uses(url, base, integration):
    workers = ["", "gw0", "gw1", "gw2", "gw3"]
    used = []
    for worker in workers:
        environ = {"REDIS_URL": url, "INTEGRATION_REDIS_DB": integration}
        if worker:
            environ["PYTEST_XDIST_WORKER"] = worker
        used.append(_databases(environ))
    # No workers and the first worker keep the databases they were given.
    assert used[0] == used[1] == (base, int(integration))
    numbers = [db for pair in used[1:] for db in pair]
    assert len(set(numbers)) == len(numbers), used
    assert all(0 <= db < 16 for db in numbers)


def test_a_broker_on_the_cache_database_follows_it_and_another_broker_stays():
    base = {"PYTEST_XDIST_WORKER": "gw1", "REDIS_URL": "redis://h:6379/0?x=1"}
    moved = worker_redis_databases(base | {"CELERY_BROKER_URL": "redis://h:6379/0?x=1"})
    assert moved["REDIS_URL"] == moved["CELERY_BROKER_URL"] == "redis://h:6379/1?x=1"
    kept = worker_redis_databases(base | {"CELERY_BROKER_URL": "amqp://rabbit//"})
    assert "CELERY_BROKER_URL" not in kept


def test_without_redis_a_worker_changes_nothing():
    assert worker_redis_databases({"PYTEST_XDIST_WORKER": "gw1"}) == {}
