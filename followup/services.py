"""Follow-up workflows: scheduling check-ins, sending them, answers, escalations, opt-out.

Views, tasks, the admin and the management commands call these functions; none of them
re-implements a workflow. The escalation decision itself is the pure `followup.escalation`.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from followup import escalation as policy
from followup.channels import EMAIL, SMS, Delivery, email_connection, notify
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
# A batch records its sends at least this often, so a worker killed mid-batch leaves at most
# this long's worth of messages unrecorded (the sweeper would send those again).
RECORD_EVERY = datetime.timedelta(seconds=0.2)
# Lease on a row while a worker sends it; the sweeper returns rows whose lease ran out.
SEND_LEASE = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
# A visit without baseline pain is compared against "no pain": the conservative choice,
# since every rise then counts.
DEFAULT_BASELINE_PAIN = 0

_LEVEL_RANK = {None: 0, EscalationLevel.REVIEW: 1, EscalationLevel.URGENT: 2}
_TAKEABLE = (CheckInStatus.SENDING,)
# What sending reads: the row's attempt and channels, the client's addresses and consent.
_TAKEN_FIELDS = (
    "attempts",
    "channels",
    "token_hash",
    "visit__client__email",
    "visit__client__phone",
    "visit__client__followup_consent",
    "visit__client__opted_out_at",
)
_PENDING = (CheckInStatus.SCHEDULED, CheckInStatus.SENDING, CheckInStatus.SENT)


def backoff(attempt: int) -> datetime.timedelta:
    """Return how long to wait after failed attempt number `attempt` (1-based)."""
    return RETRY_BACKOFF[min(max(attempt, 1), len(RETRY_BACKOFF)) - 1]


# ---- scheduling --------------------------------------------------------------------------


def policy_hours_for(position: int) -> int:
    """Return the escalation policy's hours for the check-in at `position` (0-based)."""
    return POLICY_HOURS_STEP * (position + 1)


def checkin_position(policy_hours: int) -> int:
    """Return the 1-based place of the check-in at `policy_hours` (24 h is the first)."""
    return max(policy_hours // POLICY_HOURS_STEP, 1)


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
    """Send one claimed (`sending`) check-in: a batch of one (the admin and old tasks use it)."""
    send_checkins(checkin_ids=[checkin.pk])


def send_checkins(*, checkin_ids: Iterable[int]) -> SendSummary:
    """Send a batch of claimed (`sending`) check-ins, each with a fresh link; record outcomes.

    Delivery guarantee, decided here: at-least-once, duplicates avoided. The tick claims a row
    (scheduled -> sending) so only one task is handed it; the "take" below (one conditional
    UPDATE for the batch, `sending` rows without a link yet, each given its own new link hash)
    lets only one task send per claim even if the broker delivers the task twice or the
    sweeper re-queued a row whose first task was only late; and every outcome update applies
    only while the row still holds the link we gave it, so a finished row is never sent
    again. Outcomes are recorded at least every RECORD_EVERY while the batch sends (and once
    more on a fresh connection if the database dropped ours). The window left is a worker
    killed after the transport accepted a message and before its row was marked `sent`: the
    sweeper then returns the row and the client gets a second message (with a new link; the
    first stops working). That is at most RECORD_EVERY's worth of one worker's messages. We
    prefer a rare duplicate to a lost check-in, because a lost one can hide a worsening client.
    """
    summary = SendSummary()
    taken = _take(list(checkin_ids))
    if not taken:
        return summary
    # The client is read with the take (a join after it): an opt-out or a corrected address
    # made while the row waited in the queue counts.
    opted_out = [row for row in taken if not row.checkin.visit.client.wants_followup()]
    if opted_out:
        summary.cancelled = len(opted_out)
        _record_outcomes(
            [
                (
                    [row.token_hash for row in opted_out],
                    {
                        "status": CheckInStatus.CANCELLED,
                        "token_hash": None,
                        "claimed_at": None,
                        "last_error": "the client opted out before it was sent",
                    },
                )
            ]
        )
    sendable = [row for row in taken if row.checkin.visit.client.wants_followup()]
    pending: list[tuple[_Taken, list[Delivery]]] = []
    flushed_at = time.monotonic()
    try:
        with email_connection() as connection:
            for row in sendable:
                pending.append((row, _deliver(row, connection=connection)))
                if time.monotonic() - flushed_at >= RECORD_EVERY.total_seconds():
                    _record_sends(pending, summary)
                    pending, flushed_at = [], time.monotonic()
    finally:
        # Also after an unexpected error: messages already out must be recorded as sent.
        _record_sends(pending, summary)
    logger.info("check-ins: %s", summary)
    return summary


@dataclass
class SendSummary:
    """What one batch of sends did, for the worker's log."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    moved_on: int = 0

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.cancelled} cancelled, {self.moved_on} moved on meanwhile"
        )


@dataclass(frozen=True)
class _Taken:
    """A check-in this worker took for one attempt, and the link token it carries."""

    checkin: CheckIn
    token: str
    token_hash: str


def _take(checkin_ids: list[int]) -> list[_Taken]:
    """Take the batch's rows still waiting to be sent: one UPDATE, then one SELECT to read them.

    A row is takeable while `sending` without a link hash (the claim clears it); taking bumps
    `attempts`, renews the lease and stores the hash of a fresh token, distinct per row, so
    the hash identifies this attempt in every later update.
    """
    if not checkin_ids:
        return []
    now = timezone.now()
    tokens = {pk: secrets.token_urlsafe(32) for pk in dict.fromkeys(checkin_ids)}  # 256 bits
    hashes = {pk: hash_token(token) for pk, token in tokens.items()}
    # CASE id WHEN ... THEN <hash>: one statement gives each row its own hash. Written as SQL
    # because a Case(When(...)) of 100 branches costs more Python than the sends themselves.
    pk_column = connection.ops.quote_name(CheckIn._meta.pk.column)
    params: list = []
    for pk, token_hash in hashes.items():
        params += [pk, token_hash]
    branches = " ".join(["WHEN %s THEN %s"] * len(hashes))
    # Safe: the SQL holds only placeholders and a quoted column name; values are parameters.
    token_hash_case = RawSQL(f"CASE {pk_column} {branches} END", params)  # noqa: S611
    CheckIn.objects.filter(
        pk__in=list(tokens), status__in=_TAKEABLE, token_hash__isnull=True
    ).update(
        attempts=F("attempts") + 1,
        claimed_at=now,
        token_hash=token_hash_case,
        expires_at=now + datetime.timedelta(days=settings.FOLLOWUP_TOKEN_DAYS),
    )
    taken = (
        CheckIn.objects.filter(token_hash__in=list(hashes.values()), status__in=_TAKEABLE)
        .select_related("visit__client")
        .only(*_TAKEN_FIELDS)
        .order_by("id")
    )
    rows = [
        _Taken(checkin=checkin, token=tokens[checkin.pk], token_hash=checkin.token_hash)
        for checkin in taken
    ]
    if len(rows) < len(tokens):
        skipped = len(tokens) - len(rows)
        logger.info("check-ins: %s of %s already taken or moved on", skipped, len(tokens))
    return rows


def _deliver(row: _Taken, *, connection) -> list[Delivery]:
    client = row.checkin.visit.client
    answer_link, opt_out_link = checkin_links(row.token)
    return notify(
        notice=checkin_notice(answer_link=answer_link, opt_out_link=opt_out_link),
        channels=row.checkin.channels,
        email=client.email,
        # Only when needed: formatting a number validates it, which costs more than a send.
        phone=client.phone.as_e164 if SMS in row.checkin.channels and client.phone else "",
        connection=connection,
    )


def _record_sends(pending: list[tuple[_Taken, list[Delivery]]], summary: SendSummary) -> None:
    """Record the outcome of each send, grouped so that equal updates are one statement."""
    if not pending:
        return
    now = timezone.now()
    groups: dict[tuple, list[str]] = {}
    for row, deliveries in pending:
        attempt = row.checkin.attempts
        errors = _errors(deliveries)
        if any(d.ok for d in deliveries):
            # Sent on at least one channel: a retry would repeat the message on that channel.
            summary.sent += 1
            fields = {
                "status": CheckInStatus.SENT,
                "sent_at": now,
                "claimed_at": None,
                "next_attempt_at": None,
                "last_error": errors,
            }
        elif _give_up(deliveries, attempt):
            summary.failed += 1
            logger.warning("check-in %s: failed after %s attempt(s)", row.checkin.pk, attempt)
            fields = {
                "status": CheckInStatus.FAILED,
                "token_hash": None,
                "claimed_at": None,
                "last_error": errors or "no channel to send on",
            }
        else:
            summary.retrying += 1
            fields = {
                "status": CheckInStatus.SCHEDULED,
                "token_hash": None,
                "claimed_at": None,
                "next_attempt_at": now + backoff(attempt),
                "last_error": errors,
            }
        groups.setdefault(tuple(fields.items()), []).append(row.token_hash)
    done = _record_outcomes([(hashes, dict(fields)) for fields, hashes in groups.items()])
    if done < len(pending):
        summary.moved_on += len(pending) - done
        logger.warning("check-ins: %s sent or tried, but moved on meanwhile", len(pending) - done)


def _record_outcomes(updates: list[tuple[list[str], dict]]) -> int:
    """Record what sends did, once more on a fresh connection if the database dropped ours.

    The messages have already gone out: losing these updates would leave the rows `sending`
    and the sweeper would send them a second time. Each update applies only to rows still
    `sending` with the link hash this attempt gave them, so repeating it is safe.
    """

    def apply() -> int:
        with transaction.atomic():
            return sum(
                CheckIn.objects.filter(token_hash__in=hashes, status__in=_TAKEABLE).update(**fields)
                for hashes, fields in updates
            )

    try:
        return apply()
    except (OperationalError, InterfaceError):
        connection.close()
        return apply()


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
        # Most answers escalate nothing: then there is no need to read the visit's escalations.
        escalation = None
        if result.level is not None:
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
    # One correlated EXISTS per visit over its own check-ins (found by visit, counted by
    # status), rather than counts grouped over a join of every completed visit's check-ins:
    # a bounded or paged list then reads only the check-ins of the visits it looks at.
    still_open = [*_PENDING, CheckInStatus.ANSWERED, CheckInStatus.CANCELLED]
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
