"""Celery tasks for messages. Thin: ids in, and the service skips rows that have moved on.
Due work is found by `dispatch.tick()`, never scheduled with an ETA.

The tick publishes `send_links` by its registered name (`dispatch.SEND_TASK`), so imports
run one way: tasks -> dispatch, sending."""

from __future__ import annotations

from celery import shared_task

from messaging import dispatch, kinds, sending


@shared_task(ignore_result=True)
def dispatch_due() -> str:
    """Run one tick (Celery beat calls this every FOLLOWUP_TICK_SECONDS)."""
    return str(dispatch.tick())


@shared_task(ignore_result=True)
def send_links(kind: str, ids: list[int]) -> None:
    """Send a batch of claimed rows of one kind (the tick enqueues one per claimed batch).

    The service's take is the "has it moved on?" check: one UPDATE that takes only the rows
    still `sending` and not yet taken, so a duplicate delivery of this task sends nothing.
    """
    sending.send_batch(kind=kinds.get(kind), ids=[int(pk) for pk in ids])
