"""Two beat ticks and two workers racing over 1,000 due check-ins: each is sent exactly once.

The two dispatchers are `manage.py sendmessages --loop` processes (the same `tick()` the beat
runs) publishing to the broker; the two workers send into the outbox table (EMAIL_URL=outbox:),
so every message from every process is counted in one place.
"""

from __future__ import annotations

import pytest

from followup.models import CheckIn, CheckInStatus
from messaging.models import OutboxMessage
from tests.reliability.conftest import (
    assert_followup_invariant,
    from_outbox,
    make_due_checkins,
    start_worker,
    status_summary,
    wait_until_all_due_finished,
)
from tests.services import require_postgres
from tests.support.processes import Service, python_module

pytestmark = pytest.mark.reliability

DUE = 1000


def _dispatcher(stack, name: str) -> Service:
    argv = python_module("django", "sendmessages", "--loop", "--interval", "0.3")
    return Service(
        name=name, argv=argv, env=dict(stack.env), log_path=stack.artifacts / f"{name}.log"
    )


def test_two_dispatchers_and_two_workers_send_each_of_1000_checkins_once(reliability_stack):
    require_postgres()
    stack = reliability_stack
    stack.env["EMAIL_URL"] = "outbox:"
    dispatchers = [_dispatcher(stack, f"dispatch-{n}") for n in "ab"]
    for dispatcher in dispatchers:
        stack.services[dispatcher.name] = dispatcher.start()
    stack.start(web=False, worker=True, beat=False)
    start_worker(stack, "worker-b")
    for dispatcher in dispatchers:
        dispatcher.wait_for_log(r"sendmessages is running", timeout=30)

    # The rows appear at once while both dispatchers are ticking every 0.3 s.
    make_due_checkins(DUE)

    wait_until_all_due_finished(timeout=50)
    for dispatcher in dispatchers:
        dispatcher.stop()

    assert status_summary() == {CheckInStatus.SENT: DUE}
    assert OutboxMessage.objects.count() == DUE
    # Both workers took part (the dispatchers' shares are in their logs).
    for name in ("worker", "worker-b"):
        assert "messaging.tasks.send_links" in stack.services[name].log(), f"{name} sent nothing"
    assert CheckIn.objects.filter(attempts__gt=1).count() == 0
    assert_followup_invariant(from_outbox())
