"""Messages to clients that carry a login-free link, and the development outbox.

`LinkMessage` holds what every kind of link message shares (a follow-up check-in, a pre-visit
intake link): when it falls due, its channels, its delivery state and its link. The tick
(messaging.dispatch) and the batch send (messaging.sending) read and write these fields only;
a kind adds its own foreign keys and the words of its message (messaging.kinds).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class LinkStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


# While a row is in one of these states and holds a link, a message carrying that link may be
# in the client's hands: sent, or sent by a worker that was killed before recording it (the
# row is then `sending` until the sweeper returns it to `scheduled`, and sent again with the
# same link).
ANSWERABLE = (LinkStatus.SENT, LinkStatus.SENDING, LinkStatus.SCHEDULED)


class LinkMessageQuerySet(models.QuerySet):
    """Link messages in bulk: front desk's resend and cancel."""

    def resend(self, *, due_at: datetime.datetime) -> int:
        """Schedule the rows again at `due_at` with a new link to come (a deliberate resend).

        The link already sent stops working: the new message is the one that counts.
        """
        resendable = [
            LinkStatus.SCHEDULED,
            LinkStatus.SENT,
            LinkStatus.EXPIRED,
            LinkStatus.FAILED,
            LinkStatus.CANCELLED,
        ]
        return self.filter(status__in=resendable).update(
            status=LinkStatus.SCHEDULED,
            due_at=due_at,
            next_attempt_at=None,
            attempts=0,
            claimed_at=None,
            send_key=None,
            link_secret=None,
            token_hash=None,
            expires_at=None,
            sent_at=None,
            last_error="",
        )

    def cancel(self, *, reason: str, statuses: tuple[str, ...] | None = None) -> int:
        """Cancel rows not finished yet (by default: scheduled, sending, or sent and unused)."""
        statuses = statuses or (LinkStatus.SCHEDULED, LinkStatus.SENDING, LinkStatus.SENT)
        return self.filter(status__in=statuses).update(
            status=LinkStatus.CANCELLED, claimed_at=None, next_attempt_at=None, last_error=reason
        )


class LinkMessage(models.Model):
    """A message to a client, due at `due_at`, carrying a link that works without a login.

    Its first send gives the row a link: a random `link_secret`, from which the token is
    derived with SECRET_KEY (messaging.links), and the token's hash, by which the link's page
    finds the row. Every later send of the row (a retry, or a second send after a worker was
    killed) carries the same link; only a deliberate resend (`resend`) makes a new one.
    `send_key` names the one attempt that took the row, and every outcome update applies only
    while the row still holds it. `attempts` counts the sends a worker started and finished
    or failed (one lost to a killed worker is given back by the sweeper).
    """

    due_at = models.DateTimeField()
    channels = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=LinkStatus.choices, default=LinkStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    link_secret = models.CharField(max_length=64, null=True, blank=True, editable=False)
    send_key = models.CharField(max_length=32, null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LinkMessageQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="%(class)s_status_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LinkStatus.values), name="%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "answered"]) | Q(sent_at__isnull=False),
                name="%(class)s_sent_has_time",
            ),
            # A link secret always comes with the hash of the token derived from it.
            models.CheckConstraint(
                condition=Q(link_secret__isnull=True) | Q(token_hash__isnull=False),
                name="%(class)s_secret_has_hash",
            ),
        ]

    def is_due(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.status == LinkStatus.SCHEDULED and self.due_at <= now

    def link_works(self, now: datetime.datetime | None = None) -> bool:
        """Return whether the row's link may still be used: given out, unanswered, not expired.

        A row being sent again (`sending`, or `scheduled` for a retry) keeps its link, so the
        copy the client may already have works meanwhile.
        """
        now = now or timezone.now()
        return (
            self.status in ANSWERABLE
            and self.token_hash is not None
            and self.expires_at is not None
            and now < self.expires_at
        )


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
