"""Workflows over clients, intakes and visits that touch several models.

Screening and follow-up are called through their own services (imported inside the
functions: the apps import each other's models, and this keeps import order free of cycles).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.db import transaction
from django.utils import timezone

from intake.models import Client, Intake, Visit, VisitStatus
from intake.schema import IntakeData, IntakeError
from screening.catalogue import get_catalogue


class VisitError(Exception):
    """Raise when a visit cannot move on; `problems` lists each reason in plain words."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


def normalise_name(name: str) -> str:
    """Return a name for loose comparison: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def signature_matches(signature_name: str, client: Client) -> bool:
    """Return whether a typed signature is the client's name (ignoring case and spacing)."""
    return bool(signature_name.strip()) and normalise_name(signature_name) == normalise_name(
        client.full_name
    )


def check_intake_for_record(data: IntakeData, *, today: dt.date | None = None) -> None:
    """Raise IntakeError for what the public contract allows but a new record must not hold."""
    pregnancy = data.pregnancy
    # A current pregnancy's due date lies ahead; a past one is a typo or an old form.
    due_date = pregnancy.due_date if pregnancy and pregnancy.pregnant else None
    if due_date is not None and due_date < data.visit_date:
        raise IntakeError("pregnancy.due_date", "is before the visit date (in the past)")
    if pregnancy and not pregnancy.pregnant and (pregnancy.weeks or pregnancy.due_date):
        # from_schema would drop the details silently; make the person say which is true.
        raise IntakeError("pregnancy.pregnant", "weeks or a due date given but not pregnant")


def intake_record(
    *,
    client: Client,
    data: IntakeData,
    by,
    ip: str | None,
    signature_name: str,
    signed_at: dt.datetime | None = None,
) -> Intake:
    """Store a new intake for `client` and move their scheduled visits onto it (re-screened)."""
    if not signature_matches(signature_name, client):
        raise ValueError("The signature must be the client's full name.")
    check_intake_for_record(data)
    with transaction.atomic():
        # Lock the client so two intakes saved at once still form one `previous` chain.
        client = Client.objects.select_for_update().get(pk=client.pk)
        # The latest intake's id is all the chain needs (as client.latest_intake() orders).
        latest = client.intakes.order_by("-created_at", "-id").values_list("pk", flat=True)
        previous_id = latest.first()
        intake = Intake.from_schema(
            data,
            client=client,
            entered_by=by,
            entered_from=ip or None,
            signature_name=signature_name.strip(),
            signed_at=signed_at or timezone.now(),
            previous_id=previous_id,
        )
        intake._history_user = by
        intake.save()
        visits = Visit.objects.select_for_update().filter(
            client=client, status=VisitStatus.SCHEDULED
        )
        for visit in visits:
            visit.intake = intake
            visit._history_user = by
            visit.save(update_fields=["intake", "updated_at"])
            _screen(visit)
    return intake


def visit_schedule(
    *,
    client: Client,
    therapist,
    scheduled_at: dt.datetime,
    planned_modality: str,
    focus_regions: list[str],
    by,
) -> Visit:
    """Book a visit on the client's latest intake and screen the plan."""
    modality, regions = _normalised_plan(planned_modality, focus_regions)
    with transaction.atomic():
        visit = Visit(
            client=client,
            therapist=therapist,
            scheduled_at=scheduled_at,
            planned_modality=modality,
            focus_regions=regions,
            intake=client.latest_intake(),
        )
        visit._history_user = by
        visit.save()
        _screen(visit)
    return visit


def visit_change_plan(
    *,
    visit: Visit,
    by,
    scheduled_at: dt.datetime,
    planned_modality: str,
    focus_regions: list[str],
    therapist=None,
) -> Visit:
    """Change a scheduled visit's time, therapist or plan and screen the new plan."""
    modality, regions = _normalised_plan(planned_modality, focus_regions)
    with transaction.atomic():
        visit = _locked_open_visit(visit, "changed")
        visit.scheduled_at = scheduled_at
        visit.planned_modality = modality
        visit.focus_regions = regions
        if therapist is not None:
            visit.therapist = therapist
        visit._history_user = by
        visit.save()
        _screen(visit)
    return visit


def visit_complete(
    *, visit: Visit, by, modality: str, completed_at: dt.datetime | None = None
) -> Visit:
    """Complete a visit after screening agrees, and schedule its follow-up check-ins.

    All of it happens in one transaction: a refused completion stores nothing, and a visit
    is never completed without its check-ins.
    """
    from followup.scheduling import schedule_checkins
    from screening.services import completion_problems

    performed = get_catalogue().normalise_modality(modality or "")
    if performed is None:
        raise VisitError(f"Unknown modality {modality!r}.")
    with transaction.atomic():
        visit = _locked_open_visit(visit, "completed")
        problems = completion_problems(visit=visit, modality=performed)
        if problems:
            raise VisitError(problems)
        intake = visit.intake
        visit.status = VisitStatus.COMPLETED
        visit.performed_modality = performed
        visit.completed_at = completed_at or timezone.now()
        visit.completed_by = by
        # The follow-up compares each answer with this, so "no pain recorded" counts as 0.
        visit.baseline_pain = intake.pain_score if intake and intake.pain_score is not None else 0
        visit._history_user = by
        visit.save()
        schedule_checkins(visit=visit)
    return visit


def visit_defer(*, visit: Visit, by, reason: str) -> Visit:
    """Postpone a scheduled visit, saying why (e.g. contraindicated until recovery)."""
    return _close(visit, by, reason, VisitStatus.DEFERRED)


def visit_cancel(*, visit: Visit, by, reason: str) -> Visit:
    """Cancel a scheduled visit, saying why."""
    return _close(visit, by, reason, VisitStatus.CANCELLED)


def _close(visit: Visit, by, reason: str, status: str) -> Visit:
    reason = (reason or "").strip()
    if not reason:
        raise VisitError("A reason is required.")
    with transaction.atomic():
        visit = _locked_open_visit(visit, VisitStatus(status).label.lower())
        visit.status = status
        visit.status_reason = reason
        visit._history_user = by
        visit.save()
    return visit


def _locked_open_visit(visit: Visit, verb: str) -> Visit:
    # Re-read under a row lock: a second click or another therapist may have moved it on.
    locked = Visit.objects.select_for_update(of=("self",)).select_related("intake").get(pk=visit.pk)
    if locked.status != VisitStatus.SCHEDULED:
        raise VisitError(
            f"This visit is {locked.get_status_display().lower()}; it cannot be {verb}."
        )
    return locked


def _normalised_plan(planned_modality: str, focus_regions: list[str]) -> tuple[str, list[str]]:
    cat = get_catalogue()
    modality = cat.normalise_modality(planned_modality or "")
    if modality is None:
        raise VisitError(f"Unknown modality {planned_modality!r}.")
    regions = []
    for name in focus_regions:
        code = cat.normalise_region(name)
        if code is None:
            raise VisitError(f"Unknown region {name!r}.")
        if code not in regions:
            regions.append(code)
    return modality, regions


def _screen(visit: Visit) -> None:
    # A visit without an intake has nothing to screen yet; recording one screens it.
    if visit.intake_id is None:
        return
    from screening.services import screen_visit

    try:
        screen_visit(visit=visit)
    except IntakeError as exc:
        # E.g. a visit moved so far that the intake's due date no longer fits: say so.
        raise VisitError(f"The intake cannot be screened for this plan: {exc}") from exc
