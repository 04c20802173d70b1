"""Stored screening results, their flags, and physicians' clearances."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinical import vocabulary
from clinical.catalogue import get_catalogue
from statements.history import AuditHistory

# The decision levels, most severe first, with their words (clinical.vocabulary).
Decision = models.TextChoices(
    "Decision", [(s.code.upper(), (s.code, s.badge)) for s in vocabulary.SEVERITIES]
)
SEVERITY_ORDER = list(vocabulary.SEVERITY_ORDER)


class Screening(models.Model):
    """The stored result of screening one Intake for one Visit plan."""

    visit = models.ForeignKey("intake.Visit", on_delete=models.CASCADE, related_name="screenings")
    intake = models.ForeignKey("intake.Intake", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    catalogue_version = models.CharField(max_length=20)
    # The supplementary tier's version ("" when the clinic had it switched off) and the
    # clinic vocabulary's ("" when it had no terms): a change to either re-screens.
    supplementary_version = models.CharField(max_length=20, blank=True, default="")
    vocabulary_version = models.CharField(max_length=20, blank=True, default="")
    # The engine's decision, and the decision now: the same policy (screening.engine's
    # restrictions) applied without the flags a therapist dismissed or resolved since. Lists
    # read the second, so a badge never disagrees with the report.
    decision = models.CharField(max_length=16, choices=Decision.choices)
    effective_decision = models.CharField(max_length=16, choices=Decision.choices, default="clear")
    planned_modality = models.CharField(max_length=40)
    focus_regions = models.JSONField(default=list)
    # The date screened for: gestational age and days since recovery are counted to it, so a
    # rescheduled visit is screened again.
    visit_date = models.DateField(null=True, blank=True)
    result = models.JSONField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)

    history = AuditHistory()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        indexes = [
            # The admin lists screenings newest first: a page is then read off this index
            # (backwards) instead of sorting every screening.
            models.Index(fields=["created_at", "id"], name="screening_created_id"),
            # A visit's latest screening (screening.queries.with_screening_decision, on every
            # visit list) is then one index entry; without it, the index above tempts the
            # planner into walking all screenings newest first to find one visit's.
            models.Index(fields=["visit", "created_at", "id"], name="screening_visit_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=SEVERITY_ORDER), name="screening_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(effective_decision__in=SEVERITY_ORDER),
                name="screening_effective_decision_valid",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="screening_ack_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"Screening #{self.pk} ({self.get_decision_display()})"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def blocked_modalities(self) -> list[str]:
        return list(self.result.get("blocked_modalities", []))

    @property
    def avoid_regions(self) -> list[str]:
        return list(self.result.get("avoid_regions", []))


UNRECOGNISED = "unrecognised"


class Tier(models.TextChoices):
    SEED = "seed", "The clinic's source articles"
    SUPPLEMENTARY = "supplementary", "Public guidance outside the clinic's source articles"


class Origin(models.TextChoices):
    ENGINE = "engine", "The screener"
    RESOLUTION = "resolution", "A review item the therapist said was this rule"
    COUNTED = "counted", "A mention the therapist counted"


class Resolution(models.TextChoices):
    RULE = "rule", "This is a catalogue rule"
    NOT_RELEVANT = "not_relevant", "Not relevant to massage"


class ScreeningFlag(models.Model):
    """One flagged rule of a screening, with what matched and any dismissal or resolution.

    A flag with code `unrecognised` is a review item (something the screener could not
    interpret, `item` says what); the therapist resolves it as a rule (a flag of that rule is
    added, origin "resolution") or as not relevant to massage, with a reason.
    """

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=80)
    severity = models.CharField(max_length=16, choices=Decision.choices)
    title = models.CharField(max_length=300)
    matched = models.JSONField(default=list)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.SEED)
    # For review items: the field path and the words; rules the screener suggests.
    item = models.CharField(max_length=600, blank=True, default="")
    suggestions = models.JSONField(default=list, blank=True)
    free_text_only = models.BooleanField(default=False)
    # True when only a spelling guess matched: dismissible with a reason, like free text.
    fuzzy_only = models.BooleanField(default=False)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissal_reason = models.TextField(blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolved_rule = models.CharField(max_length=80, blank=True)
    resolution_reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Flags a therapist added (a resolution, a counted mention): who and when.
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.ENGINE)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(null=True, blank=True)

    history = AuditHistory()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "code", "item"], name="flag_unique_per_screening"
            ),
            # Only a match found in free text alone, or by a spelling guess, may be
            # dismissed, and never silently; a review item is resolved, not dismissed.
            models.CheckConstraint(
                condition=Q(dismissed_at__isnull=True)
                | (
                    (Q(free_text_only=True) | Q(fuzzy_only=True))
                    & ~Q(code=UNRECOGNISED)
                    & Q(dismissed_by__isnull=False)
                    & ~Q(dismissal_reason="")
                ),
                name="flag_dismissal_rules",
            ),
            # A review item has its severity and its words; only it can be resolved.
            models.CheckConstraint(
                condition=~Q(code=UNRECOGNISED) | (Q(severity="review") & ~Q(item="")),
                name="flag_review_item_shape",
            ),
            models.CheckConstraint(
                condition=Q(resolution="")
                | (
                    Q(code=UNRECOGNISED, resolved_by__isnull=False, resolved_at__isnull=False)
                    & (
                        Q(resolution="rule") & ~Q(resolved_rule="")
                        | Q(resolution="not_relevant") & ~Q(resolution_reason="")
                    )
                ),
                name="flag_resolution_rules",
            ),
            models.CheckConstraint(
                condition=Q(resolution__in=["", "rule", "not_relevant"]),
                name="flag_resolution_valid",
            ),
            models.CheckConstraint(
                condition=Q(origin="engine")
                | Q(origin__in=["resolution", "counted"], added_by__isnull=False)
                & Q(added_at__isnull=False),
                name="flag_added_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_severity_display()})"

    @property
    def is_dismissed(self) -> bool:
        return self.dismissed_at is not None

    @property
    def is_review_item(self) -> bool:
        return self.code == UNRECOGNISED

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolution)

    @property
    def is_open_review(self) -> bool:
        """Return whether this is a review item nobody has resolved yet."""
        return self.is_review_item and not self.is_resolved

    @property
    def is_set_aside(self) -> bool:
        """Return whether this flag no longer counts (dismissed, or a resolved review item)."""
        return self.is_dismissed or self.is_resolved

    @property
    def dismissible(self) -> bool:
        return (self.free_text_only or self.fuzzy_only) and not self.is_review_item

    @property
    def detail(self) -> dict:
        """Return this flag as the engine reported it (its entry in the screening's result).

        A flag the therapist added (a resolution, a counted mention) carries the rule's own
        details, stored in `result["added"]` when it was added.
        """
        entries = self.screening.result.get("flags", ())
        if self.origin != Origin.ENGINE:
            entries = self.screening.result.get("added", {}).values()
        for item in entries:
            if item.get("code") == self.code:
                return item
        return {}

    @property
    def avoid_modalities(self) -> tuple[str, ...]:
        return tuple(self.detail.get("avoid_modalities", ()))

    @property
    def avoid_regions(self) -> tuple[str, ...]:
        return tuple(self.detail.get("avoid_regions", ()))


def clearance_document_path(instance: Clearance, filename: str) -> str:
    return f"clearances/{instance.client_id}/{timezone.now():%Y%m%d%H%M%S}-{filename[-80:]}"


class Clearance(models.Model):
    """A physician's written approval on file for a client, covering some rule codes."""

    client = models.ForeignKey("intake.Client", on_delete=models.PROTECT, related_name="clearances")
    doctor_name = models.CharField(max_length=200)
    issued_on = models.DateField()
    expires_on = models.DateField()
    codes = models.JSONField(help_text="Rule codes this clearance covers")
    note = models.TextField(blank=True)
    document = models.FileField(upload_to=clearance_document_path, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    # The visit whose clearance-request letter this clearance answers, when it answers one.
    requested_for = models.ForeignKey(
        "intake.Visit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clearance_replies",
        verbose_name="in reply to the letter for visit",
    )

    history = AuditHistory()

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("issued_on")),
                name="clearance_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"Clearance by {self.doctor_name} ({self.issued_on})"

    def is_valid_on(self, day) -> bool:
        return self.issued_on <= day <= self.expires_on

    @property
    def is_valid_today(self) -> bool:
        return self.is_valid_on(timezone.localdate())

    def covers(self, code: str, day) -> bool:
        """Return whether this clearance satisfies a `clearance` flag with `code` on `day`."""
        return code in self.codes and self.is_valid_on(day)


class VocabularyTerm(models.Model):
    """A term of the clinic's own vocabulary: words its clients use that mean a rule.

    Clinical leads add and activate terms in the admin (with history); a therapist resolving
    a review item may propose one, which counts only once a clinical lead activates it. The
    active terms are read into the screening catalogue; a change re-screens scheduled visits.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed (not used yet)"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    phrase = models.CharField(max_length=120, help_text="The words, e.g. “cupping bruises”.")
    rule_code = models.CharField(max_length=80, help_text="The catalogue rule they mean.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    note = models.TextField(blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = AuditHistory()

    class Meta:
        ordering = ["phrase"]
        verbose_name = "clinic vocabulary term"
        permissions = [("activate_vocabularyterm", "Can activate clinic vocabulary terms")]
        constraints = [
            models.UniqueConstraint(fields=["phrase", "rule_code"], name="term_unique_phrase_rule"),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "active", "retired"]), name="term_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(phrase="") & ~Q(rule_code=""), name="term_has_phrase_and_rule"
            ),
        ]

    def __str__(self) -> str:
        rule = get_catalogue().find_rule(self.rule_code)
        return f"“{self.phrase}” → {rule.title if rule else self.rule_code.replace('_', ' ')}"
