"""The worker's database connections terminated (pg_terminate_backend) in the middle of a batch."""

from __future__ import annotations

import pytest
from django.db import connection

from messaging.models import LinkStatus
from tests.reliability.conftest import (
    assert_every_copy_answers_its_row,
    assert_links_invariant,
    claim_and_publish,
    from_sink,
    sweep_after_the_window,
    wait_until_all_due_finished,
    wait_until_idle,
)
from tests.services import require_postgres

pytestmark = pytest.mark.reliability

BATCH = 12


def _terminate_other_connections() -> int:
    """Cut every other session on the test database (the worker's), as a failover would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def test_rows_in_flight_when_the_database_drops_the_worker_are_sent_once(fault_stack, fault_kind):
    require_postgres()
    fault_kind.make_due(BATCH, tag=f"d{fault_kind.name[:3]}")
    fault_stack.start(web=False, worker=True, beat=False)
    # Strike while the worker is provably mid-batch: its fifth message delivered, the
    # sink's reply held, so the worker records it only after its connection was cut.
    fault_stack.sink.hold(after=4)
    claim_and_publish(fault_stack, kind=fault_kind)
    fault_stack.sink.wait_held()
    assert _terminate_other_connections() >= 1
    fault_stack.sink.release()
    assert fault_stack.services["worker"].alive

    # The worker carries on with fresh connections (the take and the outcome updates are
    # retried on one); whatever it could not finish is left for the sweeper, which the beat
    # runs once the window has passed.
    wait_until_idle(fault_stack, _broker(fault_stack))
    sweep_after_the_window(fault_stack, kind=fault_kind)
    wait_until_all_due_finished(timeout=30, kind=fault_kind)

    assert fault_stack.services["worker"].alive
    assert fault_kind.model.objects.filter(status=LinkStatus.SENT).count() == BATCH
    delivered = from_sink(fault_stack.sink)
    assert_links_invariant(fault_kind, delivered, exactly_once=True)
    assert_every_copy_answers_its_row(fault_kind, delivered)


def _broker(stack):
    import redis

    return redis.Redis.from_url(stack.env["REDIS_URL"], socket_connect_timeout=2)
