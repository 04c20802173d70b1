"""Escalations: opening one when the policy says so, alerting the visit's therapist (at once,
and again from the tick while the alert has not gone out), the therapist's acknowledge and
resolve, and front desk's list of clients who never answered.

Which answers escalate is decided by the pure policy (followup.escalation), never here.
"""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from followup import escalation as policy
from followup.messages import therapist_notice
from followup.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    NotifyStatus,
)
from followup.scheduling import PENDING
from intake.models import Visit, VisitStatus
from messaging.alerts import alert_staff
from messaging.links import site_link
from messaging.sending import backoff, delivery_errors, give_up

logger = logging.getLogger(__name__)

# An escalation's therapist alert goes out at once from the answer request; the tick only
# picks it up if it is still pending after this grace (e.g. the broker was down).
NOTIFY_GRACE = datetime.timedelta(minutes=2)
# Lease on an alert while a worker sends it; the tick may send it again once it runs out.
ALERT_LEASE = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
# Alerts the tick hands on at most per run.
RETRY_BATCH = 100

# The alert task, by its name in Celery's registry: the tasks module calls into this one, so
# the task is looked up rather than imported back.
NOTIFY_TASK = "followup.tasks.notify_escalation"

_LEVEL_RANK = {None: 0, EscalationLevel.REVIEW: 1, EscalationLevel.URGENT: 2}


def open_escalation(
    *, visit: Visit, checkin: CheckIn, result: policy.EscalationResult
) -> Escalation | None:
    """Open an Escalation, or raise the visit's unresolved one, when the result's level is
    higher than any the visit reached so far; return it, or None when nothing changed.

    Call it inside the transaction that stored the answer, with the visit row locked; the
    therapist's alert (again, for a raised one) is handed to a worker once that commits.
    """
    escalations = list(visit.escalations.all())
    reached = {level for e in escalations for level in _levels_reached(e)}
    highest = max((_LEVEL_RANK[level] for level in reached), default=0)
    if _LEVEL_RANK[result.level] <= highest:
        return None
    now = timezone.now()
    step = {
        "level": result.level,
        "at": now.isoformat(),
        "checkin": checkin.pk,
        "reasons": [reason.to_dict() for reason in result.reasons],
    }
    unresolved = [e for e in escalations if e.status != EscalationStatus.RESOLVED]
    if unresolved:
        escalation = unresolved[0]
        raised_from = escalation.level
        escalation.level = result.level
        escalation.reasons = step["reasons"]
        escalation.checkin = checkin
        escalation.status = EscalationStatus.OPEN
        escalation.level_history = [*escalation.level_history, step]
        # A new alert: the therapist may have read the first one as less pressing.
        escalation.notify_status = NotifyStatus.PENDING
        escalation.notify_attempts = 0
        escalation.notify_error = ""
        escalation.notified_at = None
        escalation.notify_retry_at = now + NOTIFY_GRACE
        escalation.save()
        logger.info(
            "visit %s: escalation %s raised from %s to %s",
            visit.pk,
            escalation.pk,
            raised_from,
            escalation.level,
        )
    else:
        escalation = Escalation.objects.create(
            visit=visit,
            level=result.level,
            checkin=checkin,
            reasons=step["reasons"],
            opened_at=now,
            notify_retry_at=now + NOTIFY_GRACE,
            level_history=[step],
        )
        logger.info("visit %s: %s escalation %s opened", visit.pk, escalation.level, escalation.pk)
    transaction.on_commit(lambda: enqueue_therapist_notification(escalation.pk))
    return escalation


def _levels_reached(escalation: Escalation) -> set[str]:
    return {escalation.level, *(step["level"] for step in escalation.level_history)}


def enqueue_therapist_notification(escalation_id: int) -> None:
    """Hand the therapist's alert to a worker; if the broker is down, the tick retries it."""
    try:
        current_app.tasks[NOTIFY_TASK].delay(escalation_id)
    except Exception:
        logger.warning("escalation %s: alert not enqueued; the tick will retry", escalation_id)


def retry_alerts(now: datetime.datetime) -> int:
    """Lease alerts still pending after their grace, or failed temporarily, and hand each to a
    worker once the lease commits; return how many (a step of the tick)."""
    lease = now + ALERT_LEASE
    with transaction.atomic():
        due = Escalation.objects.filter(
            notify_status__in=[NotifyStatus.PENDING, NotifyStatus.FAILED],
            notify_retry_at__lte=now,
            notify_attempts__lt=settings.FOLLOWUP_MAX_ATTEMPTS,
        ).order_by("notify_retry_at", "id")
        ids = [
            pk
            for pk in due.values_list("id", flat=True)[:RETRY_BATCH]
            # A lease, so the next tick does not enqueue it again while a worker has it.
            if Escalation.objects.filter(pk=pk, notify_retry_at__lte=now).update(
                notify_retry_at=lease
            )
        ]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: enqueue_therapist_notification(pk))
    return len(ids)


def notify_therapist(escalation: Escalation) -> None:
    """Alert the visit's therapist (email; SMS too when urgent and a number is set); record it."""
    now = timezone.now()
    attempt = escalation.notify_attempts + 1
    taken = Escalation.objects.filter(
        pk=escalation.pk,
        notify_status__in=[NotifyStatus.PENDING, NotifyStatus.FAILED],
        notify_attempts=escalation.notify_attempts,
    ).update(notify_attempts=attempt, notify_retry_at=now + ALERT_LEASE)
    if not taken:
        return
    this_attempt = Escalation.objects.filter(pk=escalation.pk, notify_attempts=attempt)

    queue_link = site_link(reverse("followup:escalation_queue"))
    urgent = escalation.level == EscalationLevel.URGENT
    deliveries = alert_staff(
        user=escalation.visit.therapist,
        notice=therapist_notice(
            queue_link=queue_link, urgent=urgent, has_note=_has_client_note(escalation)
        ),
        urgent=urgent,
    )
    errors = delivery_errors(deliveries)
    if any(d.ok for d in deliveries):
        this_attempt.update(
            notify_status=NotifyStatus.SENT,
            notified_at=timezone.now(),
            notify_error=errors,
            notify_retry_at=None,
        )
        return
    # A failed alert stays visible (queue and admin); the tick retries temporary failures.
    retry_at = None if give_up(deliveries, attempt) else timezone.now() + backoff(attempt)
    this_attempt.update(
        notify_status=NotifyStatus.FAILED, notify_error=errors, notify_retry_at=retry_at
    )
    logger.warning("escalation %s: therapist alert failed (attempt %s)", escalation.pk, attempt)


def _has_client_note(escalation: Escalation) -> bool:
    """Return whether the client wrote a note with any answer of the escalated visit."""
    return (
        CheckInAnswer.objects.filter(checkin__visit_id=escalation.visit_id)
        .exclude(note="")
        .exists()
    )


def acknowledge_escalation(*, escalation: Escalation, by, note: str) -> bool:
    """Mark an open escalation acknowledged by `by`; return False if it had moved on."""
    return bool(
        Escalation.objects.filter(pk=escalation.pk, status=EscalationStatus.OPEN).update(
            status=EscalationStatus.ACKNOWLEDGED,
            acknowledged_by=by,
            acknowledged_at=timezone.now(),
            acknowledgement_note=note,
        )
    )


def resolve_escalation(*, escalation: Escalation, by, note: str) -> bool:
    """Mark an open or acknowledged escalation resolved by `by`; False if already resolved."""
    return bool(
        Escalation.objects.filter(
            pk=escalation.pk,
            status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED],
        ).update(
            status=EscalationStatus.RESOLVED,
            resolved_by=by,
            resolved_at=timezone.now(),
            resolution_note=note,
        )
    )


# ---- clients who never answered ----------------------------------------------------------


def no_response_visits() -> QuerySet[Visit]:
    """Return completed visits with no answer at all once their check-ins have run out.

    That is: at least one check-in expired, none answered, none still pending, none cancelled
    (a client who opted out is not chased); failed ones count as unanswered.
    """
    # One correlated EXISTS per visit over its own check-ins (found by visit, counted by
    # status), rather than counts grouped over a join of every completed visit's check-ins:
    # a bounded or paged list then reads only the check-ins of the visits it looks at.
    still_open = [*PENDING, CheckInStatus.ANSWERED, CheckInStatus.CANCELLED]
    unanswered = (
        CheckIn.objects.filter(visit=OuterRef("pk"))
        .order_by()
        .values("visit")
        .annotate(
            expired_count=Count("pk", filter=Q(status=CheckInStatus.EXPIRED)),
            open_count=Count("pk", filter=Q(status__in=still_open)),
        )
        .filter(expired_count__gt=0, open_count=0)
    )
    return (
        Visit.objects.filter(status=VisitStatus.COMPLETED)
        .filter(Exists(unanswered))
        .select_related("client", "therapist")
    )


def mark_called(*, visit: Visit) -> bool:
    """Record that front desk called a non-responding client; False if already recorded."""
    if visit.followup_called_at is not None:
        return False
    visit.followup_called_at = timezone.now()
    # save() rather than update(): the visit's history records who made the call.
    visit.save(update_fields=["followup_called_at", "updated_at"])
    return True
