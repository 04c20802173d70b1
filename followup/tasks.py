"""Celery tasks for follow-up. Thin: ids in, load the row, skip it if it has moved on, call a
service. Check-ins are sent by messaging's tasks (the `checkin` kind, followup.sending).

The answer that opens an escalation, and the tick's alert step, publish the alert task by its
registered name (`escalations.NOTIFY_TASK`), so imports run one way: tasks -> escalations."""

from __future__ import annotations

from celery import shared_task

from followup import escalations
from followup.models import Escalation, NotifyStatus


@shared_task(ignore_result=True)
def notify_escalation(escalation_id: int) -> None:
    """Alert the therapist about one escalation, unless that is already done."""
    escalation = (
        Escalation.objects.select_related("visit__therapist").filter(pk=escalation_id).first()
    )
    if escalation is None or escalation.notify_status == NotifyStatus.SENT:
        return
    escalations.notify_therapist(escalation)
