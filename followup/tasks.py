"""Celery tasks for follow-up. Thin: ids in, load the row, skip it if it has moved on, call a
service. Due work is found by `dispatch.tick()`, never scheduled with an ETA.

The tick and the answer that opens an escalation publish these tasks by their registered
names (`dispatch.SEND_CHECKINS_TASK`, `escalations.NOTIFY_TASK`), so imports run one way:
tasks -> dispatch, sending, escalations."""

from __future__ import annotations

from celery import shared_task

from followup import dispatch, escalations, sending
from followup.models import Escalation, NotifyStatus


@shared_task(ignore_result=True)
def dispatch_due() -> str:
    """Run one follow-up tick (Celery beat calls this every minute)."""
    return str(dispatch.tick())


@shared_task(ignore_result=True)
def send_checkins(checkin_ids: list[int]) -> None:
    """Send a batch of claimed check-ins (the tick enqueues one per claimed batch).

    The service's take is the "has it moved on?" check: one UPDATE that takes only the rows
    still `sending` and not yet taken, so a duplicate delivery of this task sends nothing.
    """
    sending.send_checkins(checkin_ids=[int(pk) for pk in checkin_ids])


@shared_task(ignore_result=True)
def notify_escalation(escalation_id: int) -> None:
    """Alert the therapist about one escalation, unless that is already done."""
    escalation = (
        Escalation.objects.select_related("visit__therapist").filter(pk=escalation_id).first()
    )
    if escalation is None or escalation.notify_status == NotifyStatus.SENT:
        return
    escalations.notify_therapist(escalation)
