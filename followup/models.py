"""Check-ins after a visit, the client's answers, and escalations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinical import vocabulary
from messaging.models import LinkMessage, LinkStatus

ANSWER_CHARACTERS = list(vocabulary.PAIN_CHARACTER_CODES)


# A check-in's states are those of every link message (messaging.models).
CheckInStatus = LinkStatus


def wait_after_visit(offset_seconds: int) -> str:
    """Return "24 hours after the visit" (or "2 minutes...", as configured) for an offset.

    A check-in is described by its real wait, never by the policy's hour mark: a demo sends
    its first check-in after minutes.
    """
    for unit, seconds in (("hour", 3_600), ("minute", 60), ("second", 1)):
        if offset_seconds % seconds == 0:
            count = offset_seconds // seconds
            return f"{count} {unit}{'' if count == 1 else 's'} after the visit"
    return ""


class CheckIn(LinkMessage):
    """One follow-up message due at `due_at` after a completed visit (one per offset).

    Its delivery state and link are a link message's (messaging.models.LinkMessage); the tick
    sends it as the `checkin` kind (followup.sending).
    """

    visit = models.ForeignKey("intake.Visit", on_delete=models.CASCADE, related_name="checkins")
    offset_seconds = models.PositiveIntegerField()
    policy_hours = models.PositiveSmallIntegerField(
        help_text="The check-in's place in the escalation policy (24, 48 or 72 hours)"
    )
    # When the one reminder was queued (a fresh link, sent by the tick like the first one).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta(LinkMessage.Meta):
        constraints = [
            models.UniqueConstraint(fields=["visit", "offset_seconds"], name="checkin_per_offset"),
            *LinkMessage.Meta.constraints,
        ]

    def __str__(self) -> str:
        wait = wait_after_visit(self.offset_seconds)
        return f"Check-in #{self.pk} ({wait}, {self.get_status_display().lower()})"

    def is_answerable(self, now=None) -> bool:
        """Return whether the client may still answer: the link works (sent, not expired)."""
        return self.link_works(now)


class CheckInAnswer(models.Model):
    """The client's one answer to a check-in."""

    checkin = models.OneToOneField(CheckIn, on_delete=models.CASCADE, related_name="answer")
    score = models.PositiveSmallIntegerField()
    character = models.CharField(max_length=12)
    radiating = models.BooleanField()
    red_flags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=10), name="answer_score_0_10"
            ),
            models.CheckConstraint(
                condition=Q(character__in=ANSWER_CHARACTERS), name="answer_character_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to check-in #{self.checkin_id}"


class EscalationLevel(models.TextChoices):
    URGENT = "urgent", "Urgent"
    REVIEW = "review", "Review"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class NotifyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Escalation(models.Model):
    """A worsening answer that the visit's therapist must act on."""

    visit = models.ForeignKey("intake.Visit", on_delete=models.PROTECT, related_name="escalations")
    level = models.CharField(max_length=8, choices=EscalationLevel.choices)
    reasons = models.JSONField(default=list)
    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="escalations")
    status = models.CharField(
        max_length=12, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    notify_status = models.CharField(
        max_length=8, choices=NotifyStatus.choices, default=NotifyStatus.PENDING
    )
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    notify_error = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # When the tick may (re)send the therapist's alert: a grace after opening for the alert
    # sent at once, a lease while a worker sends it, a backoff after a temporary failure;
    # empty once sent or given up.
    notify_retry_at = models.DateTimeField(null=True, blank=True)
    # Each level the escalation reached, oldest first: {"level", "at" (ISO time), "checkin"
    # (id), "reasons"}. A higher level raises the open escalation rather than adding one.
    level_history = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # A visit escalates at most once per level: a second submit or a re-evaluation
            # can never double an escalation.
            models.UniqueConstraint(fields=["visit", "level"], name="escalation_once_per_level"),
            # One unresolved escalation per visit: a higher level raises it, so the queue
            # never shows the same client twice.
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="escalation_one_unresolved_per_visit",
            ),
            models.CheckConstraint(
                condition=Q(level__in=EscalationLevel.values), name="escalation_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EscalationStatus.values), name="escalation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} escalation #{self.pk} ({self.status})"

    @property
    def raised_from(self) -> list[dict]:
        """Return the levels this escalation held before its current one, oldest first."""
        return self.level_history[:-1]
