"""A health form the client submitted by their link: screened at once for the visit and, when
the result needs the therapist before the visit, the therapist is told at once.

"Needs the therapist" means the decision is contraindicated or needs clearance, there are
review items nobody resolved, or the form cannot be screened for the visit's plan. The
alert, like an escalation's, names no client and no health detail: it points to the visit's
page, behind a login. It goes out from a worker once the submission commits; the tick
retries one still pending after a grace or failed for a passing reason.
"""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from intake import signals
from intake.linkmodels import IntakeLink
from intake.models import Intake, Visit
from messaging.alerts import alert_staff
from messaging.channels import Notice
from messaging.links import site_link
from messaging.sending import backoff, delivery_errors, give_up
from screening import services
from screening.models import Decision

logger = logging.getLogger(__name__)

NEEDS_THERAPIST = (Decision.CONTRAINDICATED, Decision.CLEARANCE)
NOTIFY_GRACE = datetime.timedelta(minutes=2)
ALERT_LEASE = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
RETRY_BATCH = 100
NOTIFY_TASK = "screening.tasks.notify_form_review"
PENDING, SENT, FAILED = "pending", "sent", "failed"


def needs_therapist(visit: Visit) -> bool:
    """Return whether the visit's screening needs the therapist before the visit."""
    screening = visit.current_screening()
    if screening is None or screening.intake_id != visit.intake_id:
        return True  # the form could not be screened for this plan
    if services.effective_decision(screening) in NEEDS_THERAPIST:
        return True
    return any(flag.is_open_review for flag in screening.flags.all())


@receiver(signals.client_intake_submitted, sender=Intake, dispatch_uid="screening-client-intake")
def review_submitted_form(sender, intake: Intake, visit: Visit, link: IntakeLink, **kwargs):
    """Mark the form for the therapist's review and alert them, when the screening says so."""
    visit = Visit.objects.get(pk=visit.pk)
    if not needs_therapist(visit):
        return
    now = timezone.now()
    IntakeLink.objects.filter(pk=link.pk).update(
        review_needed=True, alert_status=PENDING, alert_retry_at=now + NOTIFY_GRACE
    )
    transaction.on_commit(lambda: enqueue_alert(link.pk))


def enqueue_alert(link_id: int) -> None:
    """Hand the therapist's alert to a worker; if the broker is down, the tick retries it."""
    try:
        current_app.tasks[NOTIFY_TASK].delay(link_id)
    except Exception:
        logger.warning("health form %s: alert not enqueued; the tick will retry", link_id)


def retry_alerts(now: datetime.datetime) -> int:
    """Lease alerts still pending after their grace, or failed for a passing reason, and
    hand each to a worker once the lease commits (a step of the tick)."""
    lease = now + ALERT_LEASE
    with transaction.atomic():
        due = IntakeLink.objects.filter(
            alert_status__in=[PENDING, FAILED],
            alert_retry_at__lte=now,
            alert_attempts__lt=settings.FOLLOWUP_MAX_ATTEMPTS,
        ).order_by("alert_retry_at", "id")
        ids = [
            pk
            for pk in due.values_list("id", flat=True)[:RETRY_BATCH]
            if IntakeLink.objects.filter(pk=pk, alert_retry_at__lte=now).update(
                alert_retry_at=lease
            )
        ]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: enqueue_alert(pk))
    return len(ids)


def review_notice(*, visit_link: str) -> Notice:
    """Return the therapist's alert: a client's form needs them; no name, no health detail."""
    clinic = settings.CLINIC_NAME
    text = "A client's health form needs your review before their visit"
    return Notice(
        subject=f"{clinic}: {text}",
        email_body=f"{text}. Open the visit:\n{visit_link}\n\n{clinic}\n",
        sms_body=f"{clinic}: {text}. Open {visit_link}",
    )


def notify_therapist(link: IntakeLink) -> None:
    """Alert the visit's therapist about the form (email; SMS too when contraindicated)."""
    attempt = link.alert_attempts + 1
    taken = IntakeLink.objects.filter(
        pk=link.pk, alert_status__in=[PENDING, FAILED], alert_attempts=link.alert_attempts
    ).update(alert_attempts=attempt, alert_retry_at=timezone.now() + ALERT_LEASE)
    if not taken:
        return
    this_attempt = IntakeLink.objects.filter(pk=link.pk, alert_attempts=attempt)
    visit = link.visit
    screening = visit.current_screening()
    urgent = screening is not None and screening.effective_decision == Decision.CONTRAINDICATED
    deliveries = alert_staff(
        user=visit.therapist,
        notice=review_notice(visit_link=site_link(reverse("intake:visit_detail", args=[visit.pk]))),
        urgent=urgent,
    )
    errors = delivery_errors(deliveries)
    if any(d.ok for d in deliveries):
        this_attempt.update(
            alert_status=SENT, alerted_at=timezone.now(), alert_error=errors, alert_retry_at=None
        )
        return
    retry_at = None if give_up(deliveries, attempt) else timezone.now() + backoff(attempt)
    this_attempt.update(alert_status=FAILED, alert_error=errors, alert_retry_at=retry_at)
    logger.warning("health form %s: therapist alert failed (attempt %s)", link.pk, attempt)


def mark_reviewed(*, link: IntakeLink, by) -> bool:
    """Record that the therapist reviewed the submitted form; False if already recorded."""
    return bool(
        IntakeLink.objects.filter(pk=link.pk, review_needed=True, reviewed_at__isnull=True).update(
            reviewed_at=timezone.now(), reviewed_by=by
        )
    )
