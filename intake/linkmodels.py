"""The clinic's consent text, kept in versions, and the pre-visit health form link.

Imported by intake.models, so Django finds the models there.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.models import LinkMessage, LinkStatus

# A link is locked after this many wrong dates of birth; the clinic sends a new one.
MAX_DOB_TRIES = 5


class ConsentText(models.Model):
    """One version of the consent text a client signs; a new wording is a new version.

    Versions are never changed or deleted: an intake names the version it was signed on.
    The newest is the one shown; with none, intake.models.CONSENT_TEXT is.
    """

    version = models.CharField(
        max_length=20, unique=True, help_text="A short name for this wording, e.g. 2027-01"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "consent text"
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="consent_text_not_empty"),
            models.CheckConstraint(condition=~Q(version=""), name="consent_version_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Consent text {self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A consent text cannot be changed; add a new version instead.")
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> tuple[str, str]:
        """Return the (version, text) clients sign now: the newest, else the built-in one."""
        latest = cls.objects.order_by("-created_at", "-id").first()
        if latest is not None:
            return latest.version, latest.text
        from intake.models import CONSENT_TEXT, CONSENT_TEXT_VERSION

        return CONSENT_TEXT_VERSION, CONSENT_TEXT


class IntakeLinkPurpose(models.TextChoices):
    INVITE = "invite", "First message"
    REMINDER = "reminder", "Reminder the day before"


# Rows that may still reach the client or be used: not sent yet, being sent, or sent.
LIVE = (LinkStatus.SCHEDULED, LinkStatus.SENDING, LinkStatus.SENT)


class IntakeLink(LinkMessage):
    """A message asking the client to fill in their health form before a visit.

    Its delivery state and link are a link message's (messaging.models.LinkMessage); the
    tick sends it as the `intake` kind (intake.previsit_kind). The link expires when the
    visit starts (`expires_at`, set when the row is made). The form's answers in progress
    (`draft`, the raw values of each step) live here until the client submits; then the
    Intake holds them and the draft is emptied.
    """

    visit = models.ForeignKey("intake.Visit", on_delete=models.CASCADE, related_name="intake_links")
    purpose = models.CharField(
        max_length=8, choices=IntakeLinkPurpose.choices, default=IntakeLinkPurpose.INVITE
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    dob_failures = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    draft = models.JSONField(default=dict, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    intake = models.OneToOneField(
        "intake.Intake", null=True, blank=True, on_delete=models.PROTECT, related_name="link"
    )
    # Set by screening when the submitted form needs the therapist before the visit.
    review_needed = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alert_status = models.CharField(max_length=8, blank=True)
    alert_attempts = models.PositiveSmallIntegerField(default=0)
    alert_error = models.TextField(blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    alert_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta(LinkMessage.Meta):
        constraints = [
            # One live message of each purpose per visit: booking twice, or a resend racing
            # a send, never gives the client two working links.
            models.UniqueConstraint(
                fields=["visit", "purpose"],
                condition=Q(status__in=[s.value for s in LIVE]),
                name="intakelink_one_live_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(dob_failures__lte=MAX_DOB_TRIES), name="intakelink_dob_tries_max"
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(intake__isnull=False),
                name="intakelink_answered_has_intake",
            ),
            *LinkMessage.Meta.constraints,
        ]

    def __str__(self) -> str:
        return f"Health form link #{self.pk} ({self.status})"

    def usable(self, now=None) -> bool:
        """Return whether the client may still use the link: sent, not expired, not locked."""
        return self.link_works(now) and self.locked_at is None
