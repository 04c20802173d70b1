"""Celery tasks for screening: the therapist's alert about a client's submitted health form.

Published by name (screening.previsit.NOTIFY_TASK), so imports run one way: tasks -> previsit.
"""

from __future__ import annotations

from celery import shared_task

from intake.linkmodels import IntakeLink
from screening import previsit


@shared_task(ignore_result=True)
def notify_form_review(link_id: int) -> None:
    """Alert the therapist about one submitted form, unless that is already done."""
    link = IntakeLink.objects.select_related("visit__therapist").filter(pk=link_id).first()
    if link is None or link.alert_status not in (previsit.PENDING, previsit.FAILED):
        return
    previsit.notify_therapist(link)
