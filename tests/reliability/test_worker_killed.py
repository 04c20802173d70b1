"""A `celery worker` killed with SIGKILL in the middle of a batch of sends, then restarted."""

from __future__ import annotations

import pytest

from followup.models import CheckIn, CheckInStatus
from tests.reliability.conftest import (
    assert_followup_invariant,
    claim_and_publish,
    from_sink,
    kill_hard,
    make_due_checkins,
    start_worker,
    sweep_after_the_window,
    wait_until_all_due_finished,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.reliability

BATCH = 12


def test_checkins_stuck_by_a_killed_worker_are_swept_back_and_sent_once(fault_stack):
    make_due_checkins(BATCH)
    fault_stack.start(web=False, worker=True, beat=False)
    claim_and_publish(fault_stack)
    assert CheckIn.objects.filter(status=CheckInStatus.SENDING).count() == BATCH

    # Strike while the worker is provably inside a send (the slow transport's journal says
    # a message has started and the SMTP sink has not accepted it yet), a few sends in.
    journal = fault_stack.journal
    wait_until(
        lambda: journal.count("start") >= 4 and journal.in_flight() > 0,
        timeout=30,
        message="the worker to be in the middle of the batch",
    )
    kill_hard(fault_stack.services["worker"])
    delivered_before = len(fault_stack.sink.messages)
    assert 0 < delivered_before < BATCH
    assert CheckIn.objects.filter(status=CheckInStatus.SENDING).exists()

    # The beat's next tick after the sweep window hands the stuck rows back and re-queues them;
    # the batches the dead worker had not started are still on the broker too, so the
    # restarted worker sees some rows twice and must send each only once.
    assert sweep_after_the_window(fault_stack) >= 1
    start_worker(fault_stack, "worker-restarted")
    wait_until_all_due_finished(timeout=40)

    assert CheckIn.objects.filter(status=CheckInStatus.SENT).count() == BATCH
    assert_followup_invariant(from_sink(fault_stack.sink))
