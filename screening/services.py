"""Screening workflows: screen a visit, and the rules that decide whether it may be completed.

The engine (screening.engine) decides what is flagged; this module stores its result and
applies the workflow of SPEC section 5 on top of it:

- contraindicated: the visit can only be deferred or cancelled (with a reason);
- clearance: the visit proceeds only with a valid Clearance covering each flagged code;
- local and modify: the therapist acknowledges the screening, and the performed modality
  may not be a blocked one.

A flag found only in free text may be dismissed by a therapist with a reason; a dismissed
flag no longer counts towards the decision, the blocked modalities or the regions to avoid.
Every acknowledgement, dismissal and clearance records who and when (and simple-history
keeps each change).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from clinical import vocabulary
from clinical.catalogue import get_catalogue
from clinical.intake import IntakeData, IntakeError, parse_intake
from intake.models import Client, Visit
from screening import engine
from screening.engine import Restrictions, ScreeningResult, screen
from screening.models import Clearance, Decision, Screening, ScreeningFlag
from staff.roles import is_therapist

MAX_NOTE_CHARS = 2_000
MAX_DOCTOR_NAME_CHARS = 200


def visit_day(visit: Visit) -> datetime.date:
    """Return the clinic-local date of the visit (the day a clearance must be valid on)."""
    return timezone.localtime(visit.scheduled_at).date()


def screen_visit(*, visit: Visit) -> Screening:
    """Screen the visit's intake with its plan and store the result, unless nothing changed.

    Returns the current screening when it was made from the same intake, plan, visit date
    and catalogue version, or when the visit is already closed; otherwise stores a new one.
    A new screening starts fresh: its acknowledgement and any dismissals must be given
    again, because what the therapist confirmed was a different result. Raises IntakeError
    when the visit has no intake or its intake with this plan is not valid.
    """
    intake_data = _parse_visit(visit)
    catalogue = get_catalogue()
    with transaction.atomic():
        # Lock the visit so two saves of the same plan cannot store two screenings.
        Visit.objects.select_for_update().filter(pk=visit.pk).first()
        current = visit.current_screening()
        if current is not None and not visit.is_open:
            # A completed, deferred or cancelled visit keeps the screening it was closed on.
            return current
        if current is not None and _screened_same(current, visit, intake_data, catalogue.version):
            return current
        screening, flags = screening_rows(visit=visit, data=intake_data, result=screen(intake_data))
        screening.save()
        for flag in flags:
            flag.screening = screening
        bulk_create_with_history(flags, ScreeningFlag)
    return screening


def screening_rows(
    *, visit: Visit, data: IntakeData, result: ScreeningResult
) -> tuple[Screening, list[ScreeningFlag]]:
    """Return the unsaved Screening and ScreeningFlag rows that store `result` for `visit`.

    The one place a result becomes rows: screen_visit saves them one visit at a time, and
    the bench's bulk seeding saves many at once.
    """
    stored = result.to_dict()
    stored["negated_mentions"] = list(result.negated_mentions)
    screening = Screening(
        visit=visit,
        intake=visit.intake,
        catalogue_version=result.catalogue_version,
        decision=result.decision,
        effective_decision=result.decision,
        planned_modality=data.planned_modality,
        focus_regions=list(data.focus_regions),
        visit_date=data.visit_date,
        result=stored,
    )
    flags = [
        ScreeningFlag(
            code=flag.code,
            severity=flag.severity,
            title=flag.title[:300],
            matched=list(flag.matched),
            free_text_only=flag.free_text_only,
        )
        for flag in result.flags
    ]
    return screening, flags


def is_current(*, screening: Screening, visit: Visit) -> bool:
    """Return whether the screening still matches the visit's intake, plan, date and catalogue."""
    try:
        intake_data = _parse_visit(visit)
    except IntakeError:
        return False
    return _screened_same(screening, visit, intake_data, get_catalogue().version)


def restrictions(screening: Screening) -> Restrictions:
    """Return what the screening means now: the engine's policy without the dismissed flags."""
    flags = list(screening.flags.all())
    dismissed = {flag.code for flag in flags if flag.is_dismissed}
    return engine.restrictions(flags, set_aside=dismissed)


def effective_decision(screening: Screening | None) -> str | None:
    """Return the screening's decision with dismissed flags taken out (None if not screened)."""
    return None if screening is None else restrictions(screening).decision


def must_defer_or_cancel(*, visit: Visit) -> bool:
    """Return whether the visit's current screening is contraindicated (defer or cancel only)."""
    screening = visit.current_screening()
    return screening is not None and effective_decision(screening) == Decision.CONTRAINDICATED


def completion_problems(*, visit: Visit, modality: str) -> list[str]:
    """Return why the visit may not be completed with `modality` now; [] when it may."""
    screening = visit.current_screening()
    if screening is None:
        return ["The visit has not been screened yet: screen the intake first."]
    if not is_current(screening=screening, visit=visit):
        return [
            "The screening is out of date (the intake, plan, visit date or rule catalogue "
            "changed since): screen the visit again."
        ]
    effective = restrictions(screening)
    if effective.decision == Decision.CONTRAINDICATED:
        return [
            "Massage is contraindicated: the visit cannot be completed; "
            "it can only be deferred or cancelled, with a reason."
        ]
    problems = []
    day = visit_day(visit)
    clearances = list(visit.client.clearances.all())
    for flag in effective.flags:
        if flag.severity != Decision.CLEARANCE:
            continue
        if not any(clearance.covers(flag.code, day) for clearance in clearances):
            problems.append(
                f"Physician clearance needed for “{flag.title}”: no valid "
                f"clearance on file covers it on {day.isoformat()}."
            )
    if effective.flags and not screening.is_acknowledged:
        problems.append("The therapist must acknowledge the screening before completing.")
    performed = get_catalogue().normalise_modality(modality or "")
    if performed is None:
        problems.append(f"Unknown modality {modality!r}.")
    elif performed in effective.blocked_modalities:
        problems.append(f"{vocabulary.label('modality', performed)} is blocked by this screening.")
    return problems


def screening_acknowledge(*, screening: Screening, by, note: str = "") -> Screening:
    """Record that a therapist has read the screening (who, when, an optional note)."""
    _check_changeable(screening, by)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValidationError(f"The note is longer than {MAX_NOTE_CHARS} characters.")
    with transaction.atomic():
        locked = Screening.objects.select_for_update().get(pk=screening.pk)
        if locked.is_acknowledged:
            # The first acknowledgement stays the record; it is never silently replaced.
            raise ValidationError("This screening has already been acknowledged.")
        locked.acknowledged_by = by
        locked.acknowledged_at = timezone.now()
        locked.acknowledgement_note = note
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    return locked


def flag_dismiss(*, flag: ScreeningFlag, by, reason: str) -> ScreeningFlag:
    """Dismiss a flag that matched only in free text, recording who, when and why."""
    _check_changeable(flag.screening, by)
    reason = (reason or "").strip()
    if not flag.free_text_only:
        # Structured answers (conditions, medications, pregnancy...) are the client's own
        # statements; only a keyword found in free text can be a false match.
        raise ValidationError("Only a flag that matched in free text alone can be dismissed.")
    if not reason:
        raise ValidationError("Give the reason for dismissing this flag.")
    if len(reason) > MAX_NOTE_CHARS:
        raise ValidationError(f"The reason is longer than {MAX_NOTE_CHARS} characters.")
    with transaction.atomic():
        locked = ScreeningFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.is_dismissed:
            raise ValidationError("This flag has already been dismissed.")
        locked.dismissed_by = by
        locked.dismissed_at = timezone.now()
        locked.dismissal_reason = reason
        locked.save(update_fields=["dismissed_by", "dismissed_at", "dismissal_reason"])
        refresh_decision(screening=locked.screening)
    return locked


def refresh_decision(*, screening: Screening) -> Screening:
    """Store the screening's decision now (after a dismissal or resolution) for the lists."""
    screening.effective_decision = restrictions(screening).decision
    screening.save(update_fields=["effective_decision"])
    return screening


def clearance_codes() -> dict[str, str]:
    """Return the catalogue's rules of severity `clearance` as {code: title}."""
    return {
        rule.code: rule.title
        for rule in get_catalogue().rules
        if rule.severity == Decision.CLEARANCE
    }


def clearance_record(
    *,
    client: Client,
    by,
    doctor_name: str,
    issued_on: datetime.date,
    expires_on: datetime.date,
    codes: list[str],
    note: str = "",
    document=None,
) -> Clearance:
    """Record a physician's clearance for the client, covering some `clearance` rule codes."""
    if not is_therapist(by):
        raise PermissionDenied("Only therapists record clearances.")
    doctor_name = (doctor_name or "").strip()
    errors = []
    if not doctor_name:
        errors.append("Give the doctor's name.")
    elif len(doctor_name) > MAX_DOCTOR_NAME_CHARS:
        errors.append(f"The doctor's name is longer than {MAX_DOCTOR_NAME_CHARS} characters.")
    if issued_on is None or expires_on is None:
        errors.append("Give the date of issue and the expiry date.")
    elif expires_on < issued_on:
        errors.append("The expiry date cannot be before the date of issue.")
    known = clearance_codes()
    codes = list(dict.fromkeys(codes or []))
    if not codes:
        errors.append("Choose at least one rule the clearance covers.")
    unknown = [code for code in codes if code not in known]
    if unknown:
        errors.append(f"Not a rule that needs clearance: {', '.join(sorted(unknown))}.")
    if len((note or "").strip()) > MAX_NOTE_CHARS:
        errors.append(f"The note is longer than {MAX_NOTE_CHARS} characters.")
    if errors:
        raise ValidationError(errors)
    return Clearance.objects.create(
        client=client,
        doctor_name=doctor_name,
        issued_on=issued_on,
        expires_on=expires_on,
        codes=codes,
        note=(note or "").strip(),
        document=document or "",
        recorded_by=by,
        recorded_at=timezone.now(),
    )


def unrecognised_conditions(intake) -> list[str]:
    """Return the intake's condition entries that no catalogue rule recognises."""
    # The engine decides what the catalogue knows (codes and keywords), so ask it about the
    # conditions alone: the rest of an old intake may predate today's vocabularies.
    payload = intake.to_payload()
    data = parse_intake(
        {
            "date_of_birth": payload["date_of_birth"],
            "visit_date": payload["visit_date"],
            "planned_modality": payload["planned_modality"],
            "conditions": payload["conditions"],
        }
    )
    return list(screen(data).unmatched_conditions)


def _parse_visit(visit: Visit) -> IntakeData:
    payload = visit.screening_payload()
    if payload is None:
        raise IntakeError("intake", "the visit has no intake to screen")
    return parse_intake(payload)


def _screened_same(
    screening: Screening, visit: Visit, intake_data: IntakeData, catalogue_version: str
) -> bool:
    return (
        screening.intake_id == visit.intake_id
        and screening.planned_modality == intake_data.planned_modality
        and list(screening.focus_regions) == list(intake_data.focus_regions)
        and screening.visit_date == intake_data.visit_date
        and screening.catalogue_version == catalogue_version
    )


def _check_changeable(screening: Screening, by) -> None:
    if not is_therapist(by):
        raise PermissionDenied("Only therapists act on screenings.")
    visit = screening.visit
    if not visit.is_open:
        raise ValidationError(f"The visit is {visit.get_status_display().lower()}; it is closed.")
    if visit.current_screening() != screening:
        raise ValidationError("This screening has been replaced by a newer one; reload the page.")
    if not is_current(screening=screening, visit=visit):
        raise ValidationError("This screening is out of date; screen the visit again first.")
