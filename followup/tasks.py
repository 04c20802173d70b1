"""Celery tasks for follow-up. Thin: ids in, load the row, skip it if it has moved on, call a
service. Due work is found by `dispatch.tick()`, never scheduled with an ETA."""

from __future__ import annotations

from celery import shared_task

from followup import dispatch, services
from followup.models import CheckIn, CheckInStatus, Escalation, NotifyStatus


@shared_task(ignore_result=True)
def dispatch_due() -> str:
    """Run one follow-up tick (Celery beat calls this every minute)."""
    return str(dispatch.tick())


@shared_task(ignore_result=True)
def send_checkin(checkin_id: int) -> None:
    """Send one claimed check-in."""
    checkin = CheckIn.objects.select_related("visit__client").filter(pk=checkin_id).first()
    if checkin is None or checkin.status != CheckInStatus.SENDING:
        return
    services.send_checkin(checkin)


@shared_task(ignore_result=True)
def notify_escalation(escalation_id: int) -> None:
    """Alert the therapist about one escalation, unless that is already done."""
    escalation = (
        Escalation.objects.select_related("visit__therapist").filter(pk=escalation_id).first()
    )
    if escalation is None or escalation.notify_status == NotifyStatus.SENT:
        return
    services.notify_therapist(escalation)
