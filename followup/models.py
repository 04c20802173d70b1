"""Check-ins after a visit, the client's answers, escalations, and the development outbox."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinical import vocabulary

ANSWER_CHARACTERS = list(vocabulary.PAIN_CHARACTER_CODES)


class CheckInStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


def hash_token(token: str) -> str:
    """Return the stored form of a link token (only the hash is ever kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


class CheckIn(models.Model):
    """One follow-up message due at `due_at` after a completed visit (one per offset)."""

    visit = models.ForeignKey("intake.Visit", on_delete=models.CASCADE, related_name="checkins")
    offset_seconds = models.PositiveIntegerField()
    policy_hours = models.PositiveSmallIntegerField(
        help_text="The check-in's place in the escalation policy (24, 48 or 72 hours)"
    )
    due_at = models.DateTimeField()
    channels = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="checkin_status_due")]
        constraints = [
            models.UniqueConstraint(fields=["visit", "offset_seconds"], name="checkin_per_offset"),
            models.CheckConstraint(
                condition=Q(status__in=CheckInStatus.values), name="checkin_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "answered"]) | Q(sent_at__isnull=False),
                name="checkin_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in #{self.pk} ({self.policy_hours} h, {self.status})"

    def is_due(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == CheckInStatus.SCHEDULED and self.due_at <= now

    def is_answerable(self, now=None) -> bool:
        """Return whether the client may still answer: sent, unanswered and not expired."""
        now = now or timezone.now()
        return (
            self.status == CheckInStatus.SENT
            and self.expires_at is not None
            and now < self.expires_at
        )


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

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # A visit escalates at most once per level: a second submit or a re-evaluation
            # can never double an escalation.
            models.UniqueConstraint(fields=["visit", "level"], name="escalation_once_per_level"),
            models.CheckConstraint(
                condition=Q(level__in=EscalationLevel.values), name="escalation_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EscalationStatus.values), name="escalation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} escalation #{self.pk} ({self.status})"


class OutboxMessage(models.Model):
    """A message "sent" in development: stored so a person can read it and follow its link."""

    channel = models.CharField(max_length=5)
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to} at {self.created_at:%H:%M:%S}"
