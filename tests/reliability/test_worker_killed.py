"""Workers killed with SIGKILL after a message went out and before it was recorded, twice.

The sink holds its "accepted" reply to one message: the worker that sent it is provably in
the middle of its batch, the message delivered and its row not yet marked sent. Killing it
then is the worst moment there is; the sweeper returns the row and it is sent again. Every
kind of link message (tests/reliability/kinds.py) goes through the same strikes.
"""

from __future__ import annotations

import pytest

from messaging.links import hash_token
from messaging.models import LinkStatus
from tests.reliability.conftest import (
    assert_every_copy_answers_its_row,
    assert_links_invariant,
    claim_and_publish,
    from_sink,
    kill_hard,
    start_worker,
    sweep_after_the_window,
    wait_until_all_due_finished,
)

pytestmark = pytest.mark.reliability

DUE = 40
TASK_BATCH = 8  # rows per send task: each worker process holds a batch, the rest wait


def _row_of(fault_kind, mail):
    [token] = set(fault_kind.token.findall(mail.text))
    return fault_kind.model.objects.get(token_hash=hash_token(token))


def test_a_worker_killed_after_a_message_went_out_leaves_every_link_working(
    fault_stack, fault_kind
):
    sink = fault_stack.sink
    fault_kind.make_due(DUE, tag=f"k{fault_kind.name[:3]}")
    fault_stack.start(web=False, worker=True, beat=False)

    # Strike 1: the sixth message is delivered, its reply held; the worker is killed.
    sink.hold(after=5)
    claim_and_publish(fault_stack, kind=fault_kind, batch=TASK_BATCH)
    first = sink.wait_held()
    kill_hard(fault_stack.services["worker"])
    sink.release()
    held_rows = [_row_of(fault_kind, first)]
    assert held_rows[0].status == LinkStatus.SENDING  # delivered, never recorded

    # Strike 2: the beat's sweep re-queues the stuck rows; a new worker is killed the same
    # way, four messages in.
    assert sweep_after_the_window(fault_stack, kind=fault_kind, batch=TASK_BATCH) >= 1
    sink.hold(after=3)
    start_worker(fault_stack, "worker-2")
    second = sink.wait_held()
    kill_hard(fault_stack.services["worker-2"])
    sink.release()
    held_rows.append(_row_of(fault_kind, second))
    assert held_rows[1].status == LinkStatus.SENDING

    # Recovery: another sweep, a third worker.
    sweep_after_the_window(fault_stack, kind=fault_kind, batch=TASK_BATCH)
    start_worker(fault_stack, "worker-3")
    wait_until_all_due_finished(timeout=60, kind=fault_kind)

    delivered = from_sink(sink)
    copies = assert_links_invariant(fault_kind, delivered, exactly_once=False)
    assert len(copies) == DUE
    # The held messages reached the client twice (or more), with the same link both times.
    for row in held_rows:
        assert copies[row.pk] >= 2, f"{fault_kind} {row.pk} was held but delivered once"
    # The attempts lost to the kills were given back: one attempt each, the one that counted.
    attempts = set(fault_kind.model.objects.values_list("attempts", flat=True))
    assert attempts == {1}
    assert_every_copy_answers_its_row(fault_kind, delivered)
    # Figures for the README: copies delivered beyond one per row.
    print(f"{fault_kind}: {DUE} rows, {sum(copies.values()) - DUE} repeated message(s)")
