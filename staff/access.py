"""What each staff role may use: pages, and per model the admin pages, fields, list columns,
query-string lookups, search fields and actions. Everything not declared here is refused.

This is the one declaration (deny by default). `staff.admin.RoleAccessAdmin`, which every
registered ModelAdmin uses, reads it: an undeclared field or column is not rendered, an
undeclared action or search field does not exist, and an undeclared query-string lookup is
refused with 400 (Django's DisallowedModelAdminLookup), so nobody can probe a hidden field
with `?field__startswith=...`. `staff.middleware.PageAccessMiddleware` refuses every named
page a role does not declare. Models are named by their label ("intake.Visit"), so this
lowest Django layer holds the declaration without importing the apps.

Front desk sees contact and scheduling data and the screening decision level, never the
health history (SPEC section 1: minimum necessary). Query-string lookups are declared as
the exact parameter names the admin's own filters and date hierarchy send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from staff.roles import FRONT_DESK, OWNER, THERAPIST

# "Whatever the admin class offers": for the roles that may read every health field.
EVERYTHING = "__everything__"

# Admin pages of a model.
LIST, VIEW, ADD, CHANGE, DELETE, HISTORY = "list", "view", "add", "change", "delete", "history"


def _dates(field: str) -> frozenset[str]:
    """Return the parameters of a date hierarchy on `field` (year, month, day)."""
    return frozenset(f"{field}__{part}" for part in ("year", "month", "day"))


@dataclass(frozen=True)
class ModelAccess:
    """What a role may use of one model in the admin (EVERYTHING or names)."""

    pages: frozenset[str]
    fields: frozenset[str] | str = frozenset()
    columns: frozenset[str] | str = frozenset()
    lookups: frozenset[str] | str = frozenset()
    search: frozenset[str] | str = frozenset()
    actions: frozenset[str] | str = frozenset()
    # The fields shown hold health data: every list, change and history page that shows
    # them writes a read-log row (intake.HealthRecordAccess) for each client shown.
    health: bool = False

    def allows(self, kind: str, name: str) -> bool:
        declared = getattr(self, kind)
        return declared == EVERYTHING or name in declared


def _access(
    pages: Iterable[str],
    *,
    fields: Iterable[str] | str = (),
    columns: Iterable[str] | str = (),
    lookups: Iterable[str] | str = (),
    search: Iterable[str] | str = (),
    actions: Iterable[str] | str = (),
    health: bool = False,
) -> ModelAccess:
    def names(value):
        return value if value == EVERYTHING else frozenset(value)

    return ModelAccess(
        pages=frozenset(pages),
        fields=names(fields),
        columns=names(columns),
        lookups=names(lookups),
        search=names(search),
        actions=names(actions),
        health=health,
    )


def _full(pages: Iterable[str], *, health: bool) -> ModelAccess:
    everything = {k: EVERYTHING for k in ("fields", "columns", "lookups", "search", "actions")}
    return _access(pages, health=health, **everything)


CLIENT_NAME_SEARCH = ("first_name", "last_name", "email", "phone")
READ = (LIST, VIEW)

FRONT_DESK_MODELS = {
    "intake.Client": _access(
        (LIST, VIEW, ADD, CHANGE, HISTORY),
        fields=(
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "followup_consent",
            "followup_consent_at",
            "followup_consent_source",
            "followup_consent_by",
            "opted_out_at",
            "consent_link",
            "different_person",  # the tick that records a new client despite a duplicate
        ),
        columns=(
            "last_name",
            "first_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "followup_consent",
            "opted_out_at",
        ),
        lookups={
            "preferred_channel__exact",
            "followup_consent__exact",
            "opted_out_at__isnull",
            *_dates("created_at"),
        },
        search=CLIENT_NAME_SEARCH,
        # Duplicates are front desk's to tidy: the merge moves records without showing them.
        actions=("merge_clients",),
    ),
    # The plan a front desk books (time, therapist, modality) and the visit's state; not
    # the intake it was screened on, the pain, the body areas, why it was deferred, nor
    # what was performed instead.
    "intake.Visit": _access(
        (LIST, VIEW, ADD, CHANGE, HISTORY),
        fields=(
            "client",
            "therapist",
            "scheduled_at",
            "planned_modality",
            "modality",  # the planned modality in words, on a visit that can't be changed
            "status",
            "completed_at",
            "followup_called_at",
        ),
        columns=(
            "scheduled_at",
            "client",
            "therapist",
            "modality",
            "status",
            "decision",  # the screening decision level (SPEC section 1)
            "followup",  # "2/3 answered · escalation open"
            "health_form",  # "sent", "completed, therapist to review"
        ),
        lookups={
            "health_form",
            "status__exact",
            "therapist__id__exact",
            "planned_modality__exact",
            *_dates("scheduled_at"),
        },
        search=tuple(f"client__{name}" for name in CLIENT_NAME_SEARCH),
        actions=("mark_called", "resend_checkins", "send_health_form"),
    ),
    "followup.CheckIn": _access(
        (LIST, VIEW, CHANGE),
        fields=(
            "visit",
            "which",  # "Check-in 1, 2 minutes after the visit"
            "due_at",
            "channel_list",
            "status",
            "attempts",
            "next_attempt_at",
            "claimed_at",
            "sent_at",
            "expires_at",
            "last_error",
            "created_at",
        ),
        columns=(
            "id",
            "client_name",
            "which",
            "due_at",
            "status",
            "channel_list",
            "attempts",
            "last_error",
        ),
        lookups={"status__exact", "channel", "policy_hours__exact", *_dates("due_at")},
        search=("visit__client__first_name", "visit__client__last_name"),
        actions=("resend_checkins", "cancel_followup"),
    ),
    # That an escalation exists, its level and who handles it; not its reasons (the answer's
    # rules) nor the therapists' notes.
    "followup.Escalation": _access(
        READ,
        fields=(
            "visit",
            "level",
            "status",
            "checkin",
            "opened_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "notify_status",
            "notify_attempts",
            "notify_error",
            "notified_at",
            "notify_retry_at",
        ),
        columns=(
            "id",
            "client_name",
            "level",
            "status",
            "opened_at",
            "notify_status",
            "notify_error",
        ),  # fmt: skip
        lookups={"level__exact", "status__exact", "notify_status__exact", *_dates("opened_at")},
        search=("visit__client__first_name", "visit__client__last_name"),
    ),
}

THERAPIST_MODELS = {
    "intake.Client": _full((LIST, VIEW, ADD, CHANGE, HISTORY), health=False),
    "intake.Visit": _full((LIST, VIEW, ADD, CHANGE, HISTORY), health=True),
    "intake.Intake": _full((LIST, VIEW, HISTORY), health=True),
    "screening.Screening": _full((LIST, VIEW, HISTORY), health=True),
    "screening.ScreeningFlag": _full((LIST, VIEW, HISTORY), health=True),
    "screening.Clearance": _full((LIST, VIEW, HISTORY), health=True),
    # The clinic's own words for catalogue rules (no client's data); only clinical leads may
    # add or change them (their group's permissions).
    "screening.VocabularyTerm": _full((LIST, VIEW, ADD, CHANGE, HISTORY), health=False),
    "followup.CheckIn": _full((LIST, VIEW, CHANGE), health=False),
    "followup.CheckInAnswer": _full(READ, health=True),
    "followup.Escalation": _full(READ, health=True),
}

# The owner (a superuser) may use every page; the read log, users and devices are theirs.
ALL_PAGES = (LIST, VIEW, ADD, CHANGE, DELETE, HISTORY)
OWNER_ACCESS = _full(ALL_PAGES, health=True)
# What the owner's health-bearing reads are: the same models as a therapist's.
OWNER_HEALTH_MODELS = frozenset(label for label, a in THERAPIST_MODELS.items() if a.health)

MODELS = {FRONT_DESK: FRONT_DESK_MODELS, THERAPIST: THERAPIST_MODELS}

# The path from each health-bearing model to the client whose history it shows.
CLIENT_PATHS = {
    "intake.Visit": "client",
    "intake.Intake": "client",
    "screening.Screening": "visit__client",
    "screening.ScreeningFlag": "screening__visit__client",
    "screening.Clearance": "client",
    "followup.CheckInAnswer": "checkin__visit__client",
    "followup.Escalation": "visit__client",
}

# Named pages outside the admin, by URL name. Pages for anyone (the token pages check
# their link token, the sign-in pages their own state) are not a role's to declare.
PUBLIC_PAGES = frozenset(
    {
        "health",
        "favicon",
        "login",
        "logout",
        "followup:answer",
        "followup:opt_out",
        "intake:link",
        "intake:link_step",
        "intake:link_done",
        "intake:link_opt_out",
        "staff:two_factor_verify",
        "staff:two_factor_setup",
        "staff:two_factor_recovery_codes",
    }
)
# The admin checks its own pages (staff.admin); `make bench`'s floor pages exist only with
# BENCH_FLOOR set and must run through the same middleware as the pages they are floors for.
OPEN_NAMESPACES = ("admin:", "bench_floor:")
FRONT_DESK_PAGES = frozenset(
    {
        "home",
        "followup:escalation_queue",
        "followup:escalation_acknowledge",
        "followup:no_response",
        "followup:mark_called",
    }
)
THERAPIST_PAGES = FRONT_DESK_PAGES | {
    "intake:today",
    "intake:client_list",
    "intake:client_create",
    "intake:client_detail",
    "intake:intake_create",
    "intake:visit_create",
    "intake:intake_detail",
    "intake:intake_diff",
    "intake:visit_detail",
    "intake:visit_plan",
    "intake:visit_complete",
    "intake:visit_defer",
    "intake:visit_cancel",
    "screening:report",
    "screening:screen",
    "screening:visit_clearance_add",
    "screening:acknowledge",
    "screening:form_reviewed",
    "screening:dismiss",
    "screening:resolve",
    "screening:count",
    "screening:catalogue",
    "screening:client_clearance_add",
    "screening:clearance_document",
    # Printable documents: they hold health data, so never front desk's.
    "screening:clearance_letter",
    "screening:record_summary",
    "followup:escalation_resolve",
    "followup:pain_chart",
    "messaging:outbox",
}
PAGES = {FRONT_DESK: FRONT_DESK_PAGES, THERAPIST: THERAPIST_PAGES}


def model_access(role: str | None, label: str) -> ModelAccess | None:
    """Return what `role` may use of the model `label` in the admin, or None for nothing."""
    if role == OWNER:
        return OWNER_ACCESS
    return MODELS.get(role, {}).get(label)


def page_allowed(role: str | None, view_name: str) -> bool:
    """Return whether `role` may open the named page (admin pages are the admin's to check)."""
    if view_name in PUBLIC_PAGES or view_name.startswith(OPEN_NAMESPACES):
        return True
    if role == OWNER:
        return True
    return view_name in PAGES.get(role, ())


def shows_health(role: str | None, label: str) -> bool:
    """Return whether `role`'s admin pages of `label` show health data (so they are logged)."""
    access = model_access(role, label)
    if role == OWNER:
        return label in OWNER_HEALTH_MODELS
    return bool(access and access.health)
