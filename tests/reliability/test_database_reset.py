"""The worker's database connections terminated (pg_terminate_backend) in the middle of a batch."""

from __future__ import annotations

import pytest
from django.db import connection

from followup.models import CheckIn, CheckInStatus
from tests.reliability.conftest import (
    assert_followup_invariant,
    claim_and_publish,
    from_sink,
    make_due_checkins,
    sweep_after_the_window,
    wait_until_all_due_finished,
    wait_until_idle,
)
from tests.services import require_postgres
from tests.support.processes import wait_until

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


def test_checkins_in_flight_when_the_database_drops_the_worker_are_sent_once(fault_stack):
    require_postgres()
    make_due_checkins(BATCH)
    fault_stack.start(web=False, worker=True, beat=False)
    claim_and_publish(fault_stack)

    journal = fault_stack.journal
    wait_until(
        lambda: journal.count("start") >= 4 and journal.in_flight() > 0,
        timeout=30,
        message="the worker to be in the middle of the batch",
    )
    assert _terminate_other_connections() >= 1
    assert fault_stack.services["worker"].alive

    # The worker carries on with fresh connections; whatever it could not finish is left for
    # the sweeper, which the beat runs once the window has passed.
    wait_until_idle(fault_stack, _broker(fault_stack))
    sweep_after_the_window(fault_stack)
    wait_until_all_due_finished(timeout=30)

    assert fault_stack.services["worker"].alive
    assert CheckIn.objects.filter(status=CheckInStatus.SENT).count() == BATCH
    assert_followup_invariant(from_sink(fault_stack.sink))


def _broker(stack):
    import redis

    return redis.Redis.from_url(stack.env["REDIS_URL"], socket_connect_timeout=2)
