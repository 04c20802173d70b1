"""Follow-up workflows: scheduling check-ins, sending them, answers, escalations, opt-out.

Views, tasks, the admin and the management commands call these functions; none of them
re-implements a workflow. The escalation decision itself is the pure `followup.escalation`.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from followup import escalation as policy
from followup.channels import EMAIL, SMS, Delivery, notify
from followup.messages import checkin_links, checkin_notice, site_link, therapist_notice
from followup.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    NotifyStatus,
    hash_token,
)
from intake.models import Channel, Client, Visit, VisitStatus

logger = logging.getLogger(__name__)

# Check-ins are numbered by position: the first offset is the policy's 24 h check-in, the
# second 48 h, the third 72 h. With fewer offsets the 72-h rules (U4, R3) never apply; a
# fourth and later offset become 96 h, 120 h... which get every per-answer rule but never
# fill the 72-h slot (see followup/escalation.py).
POLICY_HOURS_STEP = 24
# Waits before retrying a send after a temporary failure, by attempt number (then the last).
RETRY_BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(hours=1),
)
# An escalation's therapist alert goes out at once from the answer request; the tick only
# picks it up if it is still pending after this grace (e.g. the broker was down).
NOTIFY_GRACE = datetime.timedelta(minutes=2)
# Lease on a row while a worker sends it; the sweeper returns rows whose lease ran out.
SEND_LEASE = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
# A visit without baseline pain is compared against "no pain": the conservative choice,
# since every rise then counts.
DEFAULT_BASELINE_PAIN = 0

_LEVEL_RANK = {None: 0, EscalationLevel.REVIEW: 1, EscalationLevel.URGENT: 2}
_TAKEABLE = (CheckInStatus.SENDING,)
_PENDING = (CheckInStatus.SCHEDULED, CheckInStatus.SENDING, CheckInStatus.SENT)


def backoff(attempt: int) -> datetime.timedelta:
    """Return how long to wait after failed attempt number `attempt` (1-based)."""
    return RETRY_BACKOFF[min(max(attempt, 1), len(RETRY_BACKOFF)) - 1]


# ---- scheduling --------------------------------------------------------------------------


def policy_hours_for(position: int) -> int:
    """Return the escalation policy's hours for the check-in at `position` (0-based)."""
    return POLICY_HOURS_STEP * (position + 1)


def quiet_until(moment: datetime.datetime) -> datetime.datetime:
    """Return `moment`, or the end of the quiet period it falls in (clinic's local time)."""
    quiet = settings.FOLLOWUP_QUIET_HOURS
    if not quiet:
        return moment
    start, end = quiet
    local = timezone.localtime(moment)
    hour = local.hour
    wraps = start > end  # e.g. 21-08 spans midnight
    in_quiet = (hour >= start or hour < end) if wraps else (start <= hour < end)
    if not in_quiet:
        return moment
    end_day = local.date()
    if wraps and hour >= start:
        end_day += datetime.timedelta(days=1)
    zone = timezone.get_current_timezone()
    return datetime.datetime.combine(end_day, datetime.time(end), tzinfo=zone)


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


# ---- sending -----------------------------------------------------------------------------


def send_checkin(checkin: CheckIn) -> None:
    """Send one claimed (`sending`) check-in with a fresh link; record the outcome on the row.

    Delivery guarantee, decided here: at-least-once. The tick claims a row (scheduled ->
    sending) so only one worker is handed it; the conditional "take" below lets only one task
    send per claim even if the broker delivers the task twice; and the final update only
    applies while the row is still the one we took, so a finished row is never sent again.
    The window left is a crash after the transport accepted the message and before the row
    is marked `sent`: the sweeper then returns the row and the client gets a second message
    (with a new link; the first link stops working). We prefer a rare duplicate to a lost
    check-in, because a lost one can hide a worsening client.
    """
    now = timezone.now()
    token = secrets.token_urlsafe(32)  # 256 bits; only the hash is stored
    attempt = checkin.attempts + 1
    taken = CheckIn.objects.filter(
        pk=checkin.pk, status__in=_TAKEABLE, attempts=checkin.attempts
    ).update(
        attempts=attempt,
        claimed_at=now,
        token_hash=hash_token(token),
        expires_at=now + datetime.timedelta(days=settings.FOLLOWUP_TOKEN_DAYS),
    )
    if not taken:
        logger.info("check-in %s: already taken by another worker", checkin.pk)
        return
    this_attempt = CheckIn.objects.filter(pk=checkin.pk, status=CheckInStatus.SENDING)
    this_attempt = this_attempt.filter(attempts=attempt)

    # Read the client now, after the take: an opt-out or a corrected address made while the
    # row waited in the queue must count.
    client = Client.objects.get(pk=checkin.visit.client_id)
    if not client.wants_followup():
        this_attempt.update(
            status=CheckInStatus.CANCELLED,
            token_hash=None,
            claimed_at=None,
            last_error="the client opted out before it was sent",
        )
        return

    answer_link, opt_out_link = checkin_links(token)
    deliveries = notify(
        notice=checkin_notice(answer_link=answer_link, opt_out_link=opt_out_link),
        channels=checkin.channels,
        email=client.email,
        phone=client.phone.as_e164 if client.phone else "",
    )
    errors = _errors(deliveries)
    if any(d.ok for d in deliveries):
        # Sent on at least one channel: a retry would repeat the message on that channel.
        done = _record_outcome(
            this_attempt,
            status=CheckInStatus.SENT,
            sent_at=timezone.now(),
            claimed_at=None,
            next_attempt_at=None,
            last_error=errors,
        )
        if not done:
            logger.warning("check-in %s: sent, but the row moved on meanwhile", checkin.pk)
        logger.info("check-in %s: sent (attempt %s)", checkin.pk, attempt)
    elif _give_up(deliveries, attempt):
        _record_outcome(
            this_attempt,
            status=CheckInStatus.FAILED,
            token_hash=None,
            claimed_at=None,
            last_error=errors or "no channel to send on",
        )
        logger.warning("check-in %s: failed after %s attempt(s)", checkin.pk, attempt)
    else:
        _record_outcome(
            this_attempt,
            status=CheckInStatus.SCHEDULED,
            token_hash=None,
            claimed_at=None,
            next_attempt_at=timezone.now() + backoff(attempt),
            last_error=errors,
        )
        logger.info("check-in %s: temporary failure, will retry", checkin.pk)


def _record_outcome(rows: QuerySet[CheckIn], **fields) -> int:
    """Record what a send did, once more on a fresh connection if the database dropped ours.

    The message has already gone out: losing this update would leave the row `sending` and the
    sweeper would send it a second time. The update is conditional, so repeating it is safe.
    """
    try:
        return rows.update(**fields)
    except (OperationalError, InterfaceError):
        connection.close()
        return rows.update(**fields)


def _errors(deliveries: list[Delivery]) -> str:
    # Transport errors only name the channel and the kind of failure: no health data.
    return "; ".join(f"{d.channel}: {d.error}" for d in deliveries if not d.ok)


def _give_up(deliveries: list[Delivery], attempt: int) -> bool:
    if not deliveries or attempt >= settings.FOLLOWUP_MAX_ATTEMPTS:
        return True
    return all(d.error is not None and d.error.permanent for d in deliveries)


def resend_checkins(checkins: QuerySet[CheckIn]) -> int:
    """Put check-ins back to `scheduled` now (outside quiet hours) with a new link to come."""
    now = timezone.now()
    resendable = [
        CheckInStatus.SCHEDULED,
        CheckInStatus.SENT,
        CheckInStatus.EXPIRED,
        CheckInStatus.FAILED,
        CheckInStatus.CANCELLED,
    ]
    return checkins.filter(status__in=resendable).update(
        status=CheckInStatus.SCHEDULED,
        due_at=quiet_until(now),
        next_attempt_at=None,
        attempts=0,
        claimed_at=None,
        token_hash=None,
        expires_at=None,
        sent_at=None,
        last_error="",
    )


def cancel_checkins(checkins: QuerySet[CheckIn], *, reason: str) -> int:
    """Cancel check-ins that are not finished (scheduled, sending or sent and unanswered)."""
    return checkins.filter(status__in=_PENDING).update(
        status=CheckInStatus.CANCELLED, claimed_at=None, next_attempt_at=None, last_error=reason
    )


# ---- answers and escalation ----------------------------------------------------------------


def find_checkin(token: str) -> CheckIn | None:
    """Return the check-in a link token belongs to, or None (any status)."""
    if not token or len(token) > 100:
        return None
    return (
        CheckIn.objects.select_related("visit__client").filter(token_hash=hash_token(token)).first()
    )


@dataclass(frozen=True)
class AnswerOutcome:
    """What recording an answer did: `recorded` False means the link could not be used."""

    recorded: bool
    level: str | None = None
    escalation: Escalation | None = None


def record_answer(
    *,
    checkin: CheckIn,
    score: int,
    character: str,
    radiating: bool,
    red_flags: list[str],
    note: str = "",
) -> AnswerOutcome:
    """Store the check-in's one answer, then escalate to the therapist if the policy says so."""
    with transaction.atomic():
        # The row lock makes the "still answerable?" check and the answer one step, so a
        # double submit or two tabs can never store two answers (the OneToOne backs it).
        locked = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        if not locked.is_answerable():
            return AnswerOutcome(recorded=False)
        CheckInAnswer.objects.create(
            checkin=locked,
            score=score,
            character=character,
            radiating=radiating,
            red_flags=list(red_flags),
            note=note,
        )
        locked.status = CheckInStatus.ANSWERED
        locked.save(update_fields=["status"])
        # One evaluation per visit at a time, so two check-ins answered at once both see
        # each other's answers (and the unique (visit, level) backs it anyway).
        visit = Visit.objects.select_for_update().get(pk=locked.visit_id)
        result = evaluate_visit(visit)
        escalation = _escalate(visit=visit, checkin=locked, result=result)
    return AnswerOutcome(recorded=True, level=result.level, escalation=escalation)


def visit_answers(visit: Visit) -> list[policy.Answer]:
    """Return the visit's answers in the policy's terms (hours = the check-in's position)."""
    answers = CheckInAnswer.objects.filter(checkin__visit=visit).select_related("checkin")
    return [
        policy.Answer(
            hours=answer.checkin.policy_hours,
            score=answer.score,
            character=answer.character,
            radiating=answer.radiating,
            red_flags=tuple(answer.red_flags),
        )
        for answer in answers.order_by("checkin__policy_hours")
    ]


def evaluate_visit(visit: Visit) -> policy.EscalationResult:
    """Evaluate all of a visit's answers with the pure escalation policy."""
    baseline = visit.baseline_pain
    return policy.evaluate(
        baseline_pain=DEFAULT_BASELINE_PAIN if baseline is None else baseline,
        answers=visit_answers(visit),
    )


def _escalate(
    *, visit: Visit, checkin: CheckIn, result: policy.EscalationResult
) -> Escalation | None:
    """Open an Escalation when the result's level is new or higher than the visit's so far."""
    existing = set(visit.escalations.values_list("level", flat=True))
    highest = max((_LEVEL_RANK[level] for level in existing), default=0)
    if _LEVEL_RANK[result.level] <= highest:
        return None
    now = timezone.now()
    escalation, created = Escalation.objects.get_or_create(
        visit=visit,
        level=result.level,
        defaults={
            "checkin": checkin,
            "reasons": [reason.to_dict() for reason in result.reasons],
            "opened_at": now,
            "notify_retry_at": now + NOTIFY_GRACE,
        },
    )
    if not created:
        return None
    logger.info("visit %s: %s escalation %s opened", visit.pk, escalation.level, escalation.pk)
    transaction.on_commit(lambda: enqueue_therapist_notification(escalation.pk))
    return escalation


def enqueue_therapist_notification(escalation_id: int) -> None:
    """Hand the therapist's alert to a worker; if the broker is down, the tick retries it."""
    from followup.tasks import notify_escalation

    try:
        notify_escalation.delay(escalation_id)
    except Exception:
        logger.warning("escalation %s: alert not enqueued; the tick will retry", escalation_id)


def therapist_phone(user) -> str:
    """Return the therapist's SMS number from settings (User has no phone), or ''."""
    return settings.FOLLOWUP_THERAPIST_PHONES.get(user.get_username(), "")


def notify_therapist(escalation: Escalation) -> None:
    """Alert the visit's therapist (email; SMS too when urgent and a number is set); record it."""
    now = timezone.now()
    attempt = escalation.notify_attempts + 1
    taken = Escalation.objects.filter(
        pk=escalation.pk,
        notify_status__in=[NotifyStatus.PENDING, NotifyStatus.FAILED],
        notify_attempts=escalation.notify_attempts,
    ).update(notify_attempts=attempt, notify_retry_at=now + SEND_LEASE)
    if not taken:
        return
    this_attempt = Escalation.objects.filter(pk=escalation.pk, notify_attempts=attempt)

    therapist = escalation.visit.therapist
    phone = therapist_phone(therapist)
    channels = [EMAIL]
    if escalation.level == EscalationLevel.URGENT and phone:
        channels.append(SMS)
    queue_link = site_link(reverse("followup:escalation_queue"))
    deliveries = notify(
        notice=therapist_notice(queue_link=queue_link),
        channels=channels,
        email=therapist.email,
        phone=phone,
    )
    errors = _errors(deliveries)
    if any(d.ok for d in deliveries):
        this_attempt.update(
            notify_status=NotifyStatus.SENT,
            notified_at=timezone.now(),
            notify_error=errors,
            notify_retry_at=None,
        )
        return
    # A failed alert stays visible (queue and admin); the tick retries temporary failures.
    retry_at = None if _give_up(deliveries, attempt) else timezone.now() + backoff(attempt)
    this_attempt.update(
        notify_status=NotifyStatus.FAILED, notify_error=errors, notify_retry_at=retry_at
    )
    logger.warning("escalation %s: therapist alert failed (attempt %s)", escalation.pk, attempt)


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


# ---- opt-out, non-response, retention ------------------------------------------------------


def opt_out(*, client: Client) -> int:
    """Record the client's opt-out and cancel their check-ins not yet sent; return how many."""
    with transaction.atomic():
        if client.opted_out_at is None:
            client.opted_out_at = timezone.now()
            client.save(update_fields=["opted_out_at", "updated_at"])
        return CheckIn.objects.filter(
            visit__client=client,
            status__in=[CheckInStatus.SCHEDULED, CheckInStatus.SENDING],
        ).update(
            status=CheckInStatus.CANCELLED,
            claimed_at=None,
            next_attempt_at=None,
            last_error="the client opted out",
        )


def no_response_visits() -> QuerySet[Visit]:
    """Return completed visits with no answer at all once their check-ins have run out.

    That is: at least one check-in expired, none answered, none still pending, none cancelled
    (a client who opted out is not chased); failed ones count as unanswered.
    """
    checkins = "checkins__status"
    return (
        Visit.objects.filter(status=VisitStatus.COMPLETED)
        .annotate(
            expired_count=Count("checkins", filter=Q(**{checkins: CheckInStatus.EXPIRED})),
            open_count=Count(
                "checkins",
                filter=Q(
                    **{
                        f"{checkins}__in": [
                            *_PENDING,
                            CheckInStatus.ANSWERED,
                            CheckInStatus.CANCELLED,
                        ]
                    }
                ),
            ),
        )
        .filter(expired_count__gt=0, open_count=0)
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


@dataclass(frozen=True)
class PurgeResult:
    answers_deleted: int
    tokens_cleared: int


def purge_followups(*, older_than_days: int, now: datetime.datetime | None = None) -> PurgeResult:
    """Delete answers and link hashes of visits completed more than `older_than_days` ago.

    Check-in rows stay (Escalation.checkin is PROTECT) and so do escalations: who acted,
    when, their notes and the rule ids are the audit trail.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    old = CheckIn.objects.filter(visit__completed_at__lt=cutoff)
    with transaction.atomic():
        answers_deleted, _ = CheckInAnswer.objects.filter(checkin__in=old).delete()
        tokens_cleared = old.filter(token_hash__isnull=False).update(token_hash=None)
    return PurgeResult(answers_deleted=answers_deleted, tokens_cleared=tokens_cleared)
