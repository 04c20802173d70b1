"""Health form links before a visit: scheduling them, resending, cancelling, and the form's
status per visit that front desk and the therapist see.

Scheduling writes rows only (safe inside the booking's transaction): the tick
(messaging.dispatch) sends them when they fall due, as the `intake` kind.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from intake.linkmodels import LIVE, IntakeLink, IntakeLinkPurpose
from intake.models import Channel, Client, Visit, VisitStatus
from messaging.channels import EMAIL, SMS
from messaging.models import ANSWERABLE, LinkStatus
from messaging.timing import quiet_until

logger = logging.getLogger(__name__)

# The reminder goes out this long before the visit when the form is still not done.
REMINDER_BEFORE = datetime.timedelta(hours=24)


class FormStatus:
    """The health form's status for one visit, in the words front desk reads."""

    NOT_SENT = "not sent"
    SENT = "sent"
    OPENED = "opened"
    COMPLETED = "completed"
    REVIEW = "needs therapist review"
    LOCKED = "locked"


def channels_for(client: Client) -> list[str]:
    """Return the client's preferred channels that have an address."""
    wanted = {
        Channel.EMAIL: [EMAIL],
        Channel.SMS: [SMS],
        Channel.BOTH: [EMAIL, SMS],
    }.get(client.preferred_channel, [EMAIL])
    has_address = {EMAIL: bool(client.email), SMS: bool(client.phone)}
    return [channel for channel in wanted if has_address[channel]]


def first_due(visit: Visit, now: datetime.datetime) -> datetime.datetime:
    """Return when the visit's first message falls due: INTAKE_LINK_DAYS_BEFORE days before
    the visit, at once if that is past (or the setting is 0), outside the quiet hours."""
    days = settings.INTAKE_LINK_DAYS_BEFORE
    due = now if days == 0 else max(now, visit.scheduled_at - datetime.timedelta(days=days))
    return quiet_until(due)


def schedule_links(
    *, visit: Visit, now: datetime.datetime | None = None, due: datetime.datetime | None = None
) -> list[IntakeLink]:
    """Create the visit's health form message and its reminder, unless they exist already.

    Nothing for a visit already started, a client who opted out of messages or one with no
    address. The reminder is made only when it would fall after the first message and
    before the visit. Calling it again never duplicates (one live row per purpose).
    """
    now = now or timezone.now()
    client = visit.client
    channels = channels_for(client)
    if visit.status != VisitStatus.SCHEDULED or visit.scheduled_at <= now:
        return []
    if client.opted_out_at is not None or not channels:
        return []
    made = []
    due = due or first_due(visit, now)
    plan = [(IntakeLinkPurpose.INVITE, due)]
    reminder_due = quiet_until(visit.scheduled_at - REMINDER_BEFORE)
    if due + datetime.timedelta(hours=1) < reminder_due < visit.scheduled_at:
        plan.append((IntakeLinkPurpose.REMINDER, reminder_due))
    for purpose, due_at in plan:
        existing = visit.intake_links.filter(purpose=purpose, status__in=LIVE).first()
        if existing is None:
            existing = IntakeLink.objects.create(
                visit=visit,
                purpose=purpose,
                due_at=due_at,
                channels=channels,
                expires_at=visit.scheduled_at,
            )
        made.append(existing)
    return made


def visit_moved(*, visit: Visit) -> None:
    """Follow a visit's new time: links end at the new start; unsent ones fall due anew."""
    now = timezone.now()
    links = visit.intake_links.filter(status__in=LIVE)
    links.update(expires_at=visit.scheduled_at)
    links.filter(status=LinkStatus.SCHEDULED, purpose=IntakeLinkPurpose.INVITE).update(
        due_at=first_due(visit, now)
    )
    reminder_due = quiet_until(visit.scheduled_at - REMINDER_BEFORE)
    links.filter(status=LinkStatus.SCHEDULED, purpose=IntakeLinkPurpose.REMINDER).update(
        due_at=reminder_due
    )


def cancel_links(*, visit: Visit, reason: str) -> int:
    """Cancel the visit's links not finished (a visit cancelled, deferred, or a resend)."""
    return visit.intake_links.filter(status__in=LIVE).update(
        status=LinkStatus.CANCELLED, claimed_at=None, next_attempt_at=None, last_error=reason
    )


def resend_link(*, visit: Visit) -> IntakeLink | None:
    """Send the client a new link now (outside quiet hours); every earlier one stops working.

    None when the visit is not ahead of us, its form is already completed, or the client
    cannot be reached (opted out, no address).
    """
    now = timezone.now()
    channels = channels_for(visit.client)
    if visit.status != VisitStatus.SCHEDULED or visit.scheduled_at <= now or not channels:
        return None
    if visit.client.opted_out_at is not None:
        return None
    with transaction.atomic():
        Visit.objects.select_for_update().filter(pk=visit.pk).first()
        if visit.intake_links.filter(status=LinkStatus.ANSWERED).exists():
            return None
        cancel_links(visit=visit, reason="replaced by a new link")
        # The new message now, and the day-before reminder again if there is time for it.
        return schedule_links(visit=visit, now=now, due=quiet_until(now))[0]


def opt_out(*, client: Client) -> int:
    """Record the client's opt-out of messages and cancel health form links not yet sent."""
    with transaction.atomic():
        if client.opted_out_at is None:
            client.opted_out_at = timezone.now()
            client.save(update_fields=["opted_out_at", "updated_at"])
        return IntakeLink.objects.filter(
            visit__client=client, status__in=[LinkStatus.SCHEDULED, LinkStatus.SENDING]
        ).update(status=LinkStatus.CANCELLED, claimed_at=None, last_error="the client opted out")


def clear_stale_drafts(now: datetime.datetime) -> int:
    """Empty the answers in progress of links that can no longer be used (a step of the
    tick): a form never sent keeps no health data once its link expired or was replaced."""
    stale = IntakeLink.objects.exclude(status__in=LIVE).exclude(draft={})
    return stale.update(draft={}, steps_done=[])


# ---- the form's status per visit ---------------------------------------------------------


def with_form_status(visits: QuerySet) -> QuerySet:
    """Annotate each visit with what its form status needs (a fixed number of queries)."""
    links = IntakeLink.objects.filter(visit=OuterRef("pk"))
    # A link in the client's hands: sent, or being sent again with the same link.
    given = links.filter(status__in=ANSWERABLE, token_hash__isnull=False)
    return visits.annotate(
        form_answered=Exists(links.filter(status=LinkStatus.ANSWERED)),
        form_review=Exists(
            links.filter(status=LinkStatus.ANSWERED, review_needed=True, reviewed_at__isnull=True)
        ),
        form_locked=Exists(given.filter(locked_at__isnull=False)),
        form_opened=Exists(given.filter(opened_at__isnull=False)),
        form_sent=Exists(
            links.filter(
                Q(status__in=ANSWERABLE, token_hash__isnull=False)
                | Q(status=LinkStatus.EXPIRED, sent_at__isnull=False)
            )
        ),
    )


def form_status(visit) -> str:
    """Return the form status of a visit annotated by `with_form_status`."""
    if visit.form_review:
        return FormStatus.REVIEW
    if visit.form_answered:
        return FormStatus.COMPLETED
    if visit.form_locked:
        return FormStatus.LOCKED
    if visit.form_opened:
        return FormStatus.OPENED
    if visit.form_sent:
        return FormStatus.SENT
    return FormStatus.NOT_SENT


def tomorrow_without_form() -> QuerySet[Visit]:
    """Return tomorrow's scheduled visits whose client has not completed the form."""
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
    answered = IntakeLink.objects.filter(visit=OuterRef("pk"), status=LinkStatus.ANSWERED)
    return Visit.objects.filter(
        status=VisitStatus.SCHEDULED,
        scheduled_at__gte=start,
        scheduled_at__lt=start + datetime.timedelta(days=1),
    ).exclude(Exists(answered))
