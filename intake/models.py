"""Clients, their immutable health-history submissions (Intake), and visits."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from clinical import vocabulary
from clinical.intake import IntakeData
from intake import codec
from statements.history import AuditHistory

PAIN_CHARACTERS = list(vocabulary.PAIN_CHARACTER_CODES)
CONSENT_TEXT_VERSION = "2026-11"
CONSENT_TEXT = (
    "I confirm that the health information I have given is complete and true to the best of my "
    "knowledge. I understand that massage may be postponed, modified or refused for my safety, "
    "and I will tell my therapist about any change in my health. I agree that the clinic stores "
    "this information to plan my treatment safely."
)


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message (SMS)"
    BOTH = "both", "Email and text message"


class ConsentSource(models.TextChoices):
    """Where a client's follow-up consent (or its withdrawal) came from."""

    IN_PERSON = "in_person", "In person at the clinic"
    PAPER = "paper", "On a signed paper form"
    PHONE = "phone", "By phone"
    # Consents recorded before their source was kept.
    UNRECORDED = "unrecorded", "Not recorded"


class IntakeSource(models.TextChoices):
    """Who filled in a health history."""

    STAFF = "staff", "Entered by staff"
    CLIENT = "client", "Submitted by the client"


class ConsentMethod(models.TextChoices):
    """How the client signed an intake's consent."""

    IN_PERSON = "in_person", "Typed name, in person"
    CLIENT_LINK = "client_link", "Typed name, client link"


class Client(models.Model):
    """A person who comes for massage. Contact and scheduling data; health data is in Intake."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(blank=True, help_text="International format, e.g. +44 7700 900123")
    preferred_channel = models.CharField(
        max_length=5, choices=Channel.choices, default=Channel.EMAIL
    )
    followup_consent = models.BooleanField("agrees to follow-up messages", default=False)
    followup_consent_at = models.DateTimeField(null=True, blank=True)
    # Provenance of the consent as it stands (the history keeps every earlier one): how the
    # client gave (or withdrew) it and which staff member recorded it.
    followup_consent_source = models.CharField(
        "consent given", max_length=10, choices=ConsentSource.choices, blank=True
    )
    followup_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="consent recorded by",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set by the client's own opt-out link; only a new consent from the client clears it.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = AuditHistory()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["last_name", "first_name"])]
        permissions = [("view_health_history", "Can view clients' health histories")]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=datetime.date(1900, 1, 1)),
                name="client_dob_plausible",
            ),
            models.CheckConstraint(
                condition=Q(preferred_channel__in=Channel.values),
                name="client_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(followup_consent=False) | Q(followup_consent_at__isnull=False),
                name="client_consent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(followup_consent=False) | ~Q(followup_consent_source=""),
                name="client_consent_has_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        errors = {}
        if self.date_of_birth:
            today = timezone.localdate()
            if self.date_of_birth > today:
                errors["date_of_birth"] = "Date of birth cannot be in the future."
            elif today.year - self.date_of_birth.year > 120:
                errors["date_of_birth"] = "Date of birth is more than 120 years ago."
        if self.preferred_channel in (Channel.EMAIL, Channel.BOTH) and not self.email:
            errors["email"] = "An email address is needed for follow-ups by email."
        if self.preferred_channel in (Channel.SMS, Channel.BOTH) and not self.phone:
            errors["phone"] = "A mobile number is needed for follow-ups by text message."
        if errors:
            raise ValidationError(errors)

    def wants_followup(self) -> bool:
        """Return whether check-ins may be sent: consent given and not opted out."""
        return self.followup_consent and self.opted_out_at is None

    def latest_intake(self) -> Intake | None:
        return self.intakes.order_by("-created_at", "-id").first()


class Intake(models.Model):
    """One immutable submission of a client's health history (the intake JSON contract).

    A change is a new Intake; `previous` links it to the one it replaces so the "what changed"
    view can compare them.
    """

    # Indexed with its time by Meta.indexes (client_latest), which also serves the foreign key.
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="intakes", db_index=False
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    # The fields of the intake JSON (SPEC section 4).
    date_of_birth = models.DateField()
    visit_date = models.DateField()
    planned_modality = models.CharField(max_length=40)
    focus_regions = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    pregnant = models.BooleanField(default=False)
    pregnancy_due_date = models.DateField(null=True, blank=True)
    pregnancy_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    medications = models.JSONField(default=list, blank=True)
    recent_illness_name = models.CharField(max_length=200, blank=True)
    recent_illness_recovered_on = models.DateField(null=True, blank=True)
    pain_score = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_regions = models.JSONField(default=list, blank=True)
    pain_character = models.CharField(max_length=12, blank=True)
    pain_radiating = models.BooleanField(default=False)
    red_flags = models.JSONField(default=list, blank=True)
    allergies = models.JSONField(default=list, blank=True)
    free_text = models.TextField(blank=True)

    # Consent, with a typed signature.
    signature_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    consent_version = models.CharField(max_length=20, default=CONSENT_TEXT_VERSION)
    consent_method = models.CharField(
        max_length=12, choices=ConsentMethod.choices, default=ConsentMethod.IN_PERSON
    )
    source = models.CharField(
        max_length=8, choices=IntakeSource.choices, default=IntakeSource.STAFF
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_from = models.GenericIPAddressField(null=True, blank=True)

    history = AuditHistory()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A client's latest intake (Client.latest_intake, and the `previous` every new
            # intake reads) is one index entry, however many intakes a returning client has.
            models.Index(fields=["client", "created_at", "id"], name="intake_client_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_score__isnull=True) | Q(pain_score__gte=0, pain_score__lte=10),
                name="intake_pain_score_0_10",
            ),
            models.CheckConstraint(
                condition=Q(pregnancy_weeks__isnull=True)
                | Q(pregnancy_weeks__gte=0, pregnancy_weeks__lte=45),
                name="intake_pregnancy_weeks_range",
            ),
            models.CheckConstraint(
                condition=Q(pregnant=True)
                | Q(pregnancy_weeks__isnull=True, pregnancy_due_date__isnull=True),
                name="intake_pregnancy_details_only_when_pregnant",
            ),
            models.CheckConstraint(
                condition=Q(pain_character__in=["", *PAIN_CHARACTERS]),
                name="intake_pain_character_valid",
            ),
            models.CheckConstraint(
                condition=~Q(signature_name=""), name="intake_signature_required"
            ),
            models.CheckConstraint(
                condition=Q(source__in=IntakeSource.values), name="intake_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(consent_method__in=ConsentMethod.values),
                name="intake_consent_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake #{self.pk} for {self.client}"

    def save(self, *args, **kwargs):
        # Health histories are immutable: a correction is a new Intake, so what a screening
        # was based on can always be shown exactly as it was.
        if self.pk is not None:
            raise ValidationError("An intake cannot be changed; record a new intake instead.")
        super().save(*args, **kwargs)

    @classmethod
    def from_data(cls, data: IntakeData, **extra) -> Intake:
        """Build an unsaved Intake from a parsed intake (clinical.intake.IntakeData)."""
        return cls(**codec.model_values(data), **extra)

    def to_payload(self) -> dict:
        """Return this intake in the intake JSON contract (SPEC section 4)."""
        return codec.payload_from_model(self)

    def condition_codes(self) -> list[str]:
        return [c["code"] for c in self.conditions]


class VisitStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    DEFERRED = "deferred", "Deferred"
    CANCELLED = "cancelled", "Cancelled"


class Visit(models.Model):
    """One appointment: the plan, the intake it was screened on, and what was performed."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="visits")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits"
    )
    scheduled_at = models.DateTimeField(db_index=True)
    planned_modality = models.CharField(max_length=40)
    focus_regions = models.JSONField(default=list, blank=True)
    intake = models.ForeignKey(
        Intake, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    status = models.CharField(
        max_length=10, choices=VisitStatus.choices, default=VisitStatus.SCHEDULED, db_index=True
    )
    status_reason = models.TextField(blank=True)
    performed_modality = models.CharField(max_length=40, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    baseline_pain = models.PositiveSmallIntegerField(null=True, blank=True)
    followup_called_at = models.DateTimeField("no-response call made", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = AuditHistory()

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VisitStatus.values), name="visit_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=VisitStatus.COMPLETED)
                | (Q(completed_at__isnull=False) & ~Q(performed_modality="")),
                name="visit_completed_has_time_and_modality",
            ),
            models.CheckConstraint(
                condition=Q(baseline_pain__isnull=True)
                | Q(baseline_pain__gte=0, baseline_pain__lte=10),
                name="visit_baseline_pain_0_10",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[VisitStatus.DEFERRED, VisitStatus.CANCELLED])
                | ~Q(status_reason=""),
                name="visit_deferral_has_reason",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.scheduled_at).strftime("%Y-%m-%d %H:%M")
        return f"{self.client} · {when}"

    @property
    def is_open(self) -> bool:
        return self.status == VisitStatus.SCHEDULED

    def current_screening(self):
        """Return the latest stored screening of this visit, if any."""
        return self.screenings.order_by("-created_at", "-id").first()

    def screening_payload(self) -> dict | None:
        """Return the intake JSON to screen: the intake's history with this visit's plan."""
        if self.intake is None:
            return None
        payload = self.intake.to_payload()
        payload["visit_date"] = timezone.localtime(self.scheduled_at).date().isoformat()
        payload["planned_modality"] = self.planned_modality
        payload["focus_regions"] = list(self.focus_regions)
        return payload


class HealthRecordAccess(models.Model):
    """A read of a client's health history by a staff user (who, when, which client, what)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    what = models.CharField(max_length=60)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "health record access"

    def __str__(self) -> str:
        return (
            f"{self.user} read {self.what} of client #{self.client_id} at {self.at:%Y-%m-%d %H:%M}"
        )


from intake.linkmodels import ConsentText, IntakeLink  # noqa: E402, F401 - models of this app
