"""Scheduling check-ins: when they fall due (quiet hours), on which channels; resend, cancel and
the client's opt-out, which stops what is not sent yet.

Scheduling writes rows only: the tick (messaging.dispatch) finds them when they fall due.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from followup.models import CheckIn, CheckInStatus
from intake.models import Channel, Client, Visit
from messaging.channels import EMAIL, SMS
from messaging.timing import quiet_until

logger = logging.getLogger(__name__)

# Check-ins are numbered by position: the first offset is the policy's 24 h check-in, the
# second 48 h, the third 72 h. With fewer offsets the 72-h rules (U4, R3) never apply; a
# fourth and later offset become 96 h, 120 h... which get every per-answer rule but never
# fill the 72-h slot (see followup/escalation.py).
POLICY_HOURS_STEP = 24
# Check-ins that may still reach the client: not yet sent, being sent, or sent and open.
PENDING = (CheckInStatus.SCHEDULED, CheckInStatus.SENDING, CheckInStatus.SENT)


def policy_hours_for(position: int) -> int:
    """Return the escalation policy's hours for the check-in at `position` (0-based)."""
    return POLICY_HOURS_STEP * (position + 1)


def checkin_position(policy_hours: int) -> int:
    """Return the 1-based place of the check-in at `policy_hours` (24 h is the first)."""
    return max(policy_hours // POLICY_HOURS_STEP, 1)


def channels_for(client: Client) -> list[str]:
    """Return the channels to use for a client: the preferred ones that have an address."""
    wanted = {
        Channel.EMAIL: [EMAIL],
        Channel.SMS: [SMS],
        Channel.BOTH: [EMAIL, SMS],
    }.get(client.preferred_channel, [EMAIL])
    has_address = {EMAIL: bool(client.email), SMS: bool(client.phone)}
    return [channel for channel in wanted if has_address[channel]]


def schedule_checkins(*, visit: Visit) -> list[CheckIn]:
    """Create the visit's check-ins (one per FOLLOWUP_OFFSETS entry) if the client wants them.

    Writes rows only, so it is safe inside the request that completes the visit (no broker).
    Calling it again never duplicates: (visit, offset_seconds) is unique.
    """
    client = visit.client
    if not client.wants_followup():
        return []
    if visit.completed_at is None:
        raise ValueError("check-ins are scheduled from a completed visit's completed_at")
    channels = channels_for(client)
    if not channels:
        logger.warning("visit %s: client has no address for follow-up; none scheduled", visit.pk)
        return []
    checkins = []
    for position, offset in enumerate(settings.FOLLOWUP_OFFSETS):
        checkin, _ = CheckIn.objects.get_or_create(
            visit=visit,
            offset_seconds=offset,
            defaults={
                "policy_hours": policy_hours_for(position),
                "due_at": quiet_until(visit.completed_at + datetime.timedelta(seconds=offset)),
                "channels": channels,
            },
        )
        checkins.append(checkin)
    return checkins


# Reminders the tick queues at most per run.
REMINDER_BATCH = 100


def remind_unanswered(now: datetime.datetime) -> int:
    """Queue the one reminder of check-ins still unanswered halfway to their link's expiry;
    return how many (a step of the tick).

    A reminder sends the check-in again through the tick, with the same link (it expires
    when the first one does) and the reminder's words. Not in quiet
    hours: a later tick does it. Not for a check-in a later one of its visit has followed:
    the client has a newer message to answer. Each row is taken by a conditional UPDATE on
    `status = sent AND reminded_at IS NULL`, so two ticks never remind twice.
    """
    if quiet_until(now) != now:
        return 0
    half = datetime.timedelta(days=settings.FOLLOWUP_TOKEN_DAYS) / 2
    followed = CheckIn.objects.filter(
        visit=OuterRef("visit"),
        policy_hours__gt=OuterRef("policy_hours"),
        status__in=[CheckInStatus.SENDING, CheckInStatus.SENT, CheckInStatus.ANSWERED],
    )
    candidates = (
        CheckIn.objects.filter(
            status=CheckInStatus.SENT,
            reminded_at__isnull=True,
            sent_at__lte=now - half,
            expires_at__gt=now,
        )
        .exclude(Exists(followed))
        .order_by("sent_at", "id")
        .values_list("id", flat=True)[:REMINDER_BATCH]
    )
    reminded = 0
    for pk in list(candidates):
        reminded += CheckIn.objects.filter(
            pk=pk, status=CheckInStatus.SENT, reminded_at__isnull=True
        ).update(
            # The link, its secret and its expiry stay: the reminder carries the same link,
            # which keeps working meanwhile (messaging.models.LinkMessage.link_works).
            status=CheckInStatus.SCHEDULED,
            reminded_at=now,
            due_at=now,
            next_attempt_at=None,
            attempts=0,
            claimed_at=None,
            send_key=None,
            last_error="",
        )
    return reminded


def resend_checkins(checkins: QuerySet[CheckIn]) -> int:
    """Put check-ins back to `scheduled` now (outside quiet hours) with a new link to come."""
    return checkins.resend(due_at=quiet_until(timezone.now()))


def resend_notice(count: int) -> str:
    """Return what staff are told after resending `count` check-ins: when they go out."""
    now = timezone.now()
    due = quiet_until(now)
    when = "within a few minutes"
    if due > now:
        when = f"at {timezone.localtime(due):%H:%M}, when the quiet hours end"
    return f"{count} check-in(s) will be sent again {when}, each with a new link."


def cancel_checkins(checkins: QuerySet[CheckIn], *, reason: str) -> int:
    """Cancel check-ins that are not finished (scheduled, sending or sent and unanswered)."""
    return checkins.cancel(reason=reason, statuses=PENDING)


def opt_out(*, client: Client) -> int:
    """Record the client's opt-out and cancel their check-ins not yet sent; return how many."""
    with transaction.atomic():
        if client.opted_out_at is None:
            client.opted_out_at = timezone.now()
            client.save(update_fields=["opted_out_at", "updated_at"])
        return CheckIn.objects.filter(visit__client=client).cancel(
            reason="the client opted out",
            statuses=(CheckInStatus.SCHEDULED, CheckInStatus.SENDING),
        )
