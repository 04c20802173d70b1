"""Screening workflows: screen a visit, and the rules that decide whether it may be completed.

The engine (screening.engine) decides what is flagged; this module stores its result and
applies the workflow of SPEC section 5 on top of it:

- contraindicated: the visit can only be deferred or cancelled (with a reason);
- clearance: the visit proceeds only with a valid Clearance covering each flagged code;
- local and modify: the therapist acknowledges the screening, and the performed modality
  may not be a blocked one.

A flag found only in free text (or only by a spelling guess) may be dismissed by a therapist
with a reason; a dismissed flag no longer counts towards the decision, the blocked modalities
or the regions to avoid. A `review` item (something the screener could not interpret) blocks
completion until the therapist resolves it: "this is <rule>" adds that rule's flag, "not
relevant to massage" records why; a mention the screener did not count can be counted. All of
it flows through the one restriction policy (screening.engine.restrictions) and is stored as
`Screening.effective_decision`. Every acknowledgement, dismissal, resolution and clearance
records who and when (and simple-history keeps each change); those actions are in
screening/actions.py.
"""

from __future__ import annotations

import datetime
import hashlib
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinical import vocabulary
from clinical.catalogue import Catalogue, ClinicTerm, get_catalogue
from clinical.intake import IntakeData, IntakeError, parse_intake
from intake.models import Visit, VisitStatus
from intake.services import require_transaction
from screening import engine
from screening.engine import Restrictions, ScreeningResult, screen
from screening.models import (
    Decision,
    Screening,
    ScreeningFlag,
    VocabularyTerm,
)
from statements import rows as statements

MAX_NOTE_CHARS = 2_000
MAX_DOCTOR_NAME_CHARS = 200


MAX_TERM_CHARS = 120
_FIELD = re.compile(r"^(conditions|medications|allergies)\[(\d+)\](\.notes)?$")
_FIELD_WORDS = {"conditions": "condition", "medications": "medication", "allergies": "allergy"}


_ACTIVE = VocabularyTerm.Status.ACTIVE.value


@statements.built_once
def _active_terms_sql(*, q: str) -> str:
    # Read on every screening (each intake, each change of plan): a statement built once.
    table = VocabularyTerm._meta.db_table
    return (
        f"SELECT {q}phrase{q}, {q}rule_code{q} FROM {q}{table}{q} "  # noqa: S608 (names from the models)
        f"WHERE {q}status{q} = %s ORDER BY {q}phrase{q} ASC, {q}rule_code{q} ASC"
    )


def current_catalogue() -> Catalogue:
    """Return the catalogue as this clinic screens with it now.

    The seed tier always; the supplementary tier unless SCREENING_SUPPLEMENTARY is off; and
    the clinic's active vocabulary terms (one small query; the compiled catalogue is cached
    per vocabulary version).
    """
    rows = statements.fetch(_active_terms_sql(), [_ACTIVE])
    terms = tuple(ClinicTerm(phrase, rule_code) for phrase, rule_code in rows)
    version = hashlib.sha256(repr(terms).encode()).hexdigest()[:12] if terms else ""
    return get_catalogue(
        supplementary=settings.SCREENING_SUPPLEMENTARY,
        clinic_terms=terms,
        vocabulary_version=version,
    )


def field_words(field: str) -> str:
    """Return an intake field path in plain words ('conditions[1]' -> 'condition 2')."""
    if field == "free_text":
        return "the client's own words"
    m = _FIELD.match(field)
    if m is None:
        return field.replace("_", " ")
    what = f"{_FIELD_WORDS[m.group(1)]} {int(m.group(2)) + 1}"
    return f"notes on {what}" if m.group(3) else what


def item_words(item: str) -> tuple[str, str]:
    """Split a review item ('conditions[1]: pacemaker') into (where in words, the words)."""
    field, _, words = item.partition(": ")
    return field_words(field), words


def visit_day(visit: Visit) -> datetime.date:
    """Return the clinic-local date of the visit (the day a clearance must be valid on)."""
    return timezone.localtime(visit.scheduled_at).date()


def screen_visit(*, visit: Visit, locked: bool = False, new_intake: bool = False) -> Screening:
    """Screen the visit's intake with its plan and store the result, unless nothing changed.

    Returns the current screening when it was made from the same intake, plan, visit date
    and catalogue version, or when the visit is already closed; otherwise stores a new one.
    A new screening starts fresh: its acknowledgement and any dismissals must be given
    again, because what the therapist confirmed was a different result. Raises IntakeError
    when the visit has no intake or its intake with this plan is not valid.

    `locked` says the caller's transaction already holds the visit's row (it locked or
    inserted it): it is not locked again, and a failure here rolls back the caller's change.
    `new_intake` says the visit's intake was recorded in that transaction, so no screening
    of it can exist: the current one is not read.
    """
    intake_data = _parse_visit(visit)
    catalogue = current_catalogue()
    if locked:
        require_transaction("A locked visit")
    with transaction.atomic(savepoint=not locked):
        if not locked:
            # Lock the visit so two saves of the same plan cannot store two screenings.
            Visit.objects.select_for_update().filter(pk=visit.pk).first()
        current = None if new_intake and visit.is_open else visit.current_screening()
        if current is not None and not visit.is_open:
            # A completed, deferred or cancelled visit keeps the screening it was closed on.
            return current
        if current is not None and _screened_same(current, visit, intake_data, catalogue):
            return current
        result = screen(intake_data, catalogue)
        screening, flags = screening_rows(visit=visit, data=intake_data, result=result)
        _store(screening, flags)
    return screening


def _store(screening: Screening, flags: list[ScreeningFlag]) -> None:
    # Every intake and every change of plan stores one: the statements are built once
    # (statements.rows), each with the history of the rows it wrote.
    now = timezone.now()
    user = statements.history_user(screening)
    statements.insert(screening, history=statements.History(statements.CREATED, user, now))
    if flags:
        for flag in flags:
            flag.screening = screening
        statements.insert(*flags, history=statements.History(statements.CREATED, user, now))


def screening_rows(
    *, visit: Visit, data: IntakeData, result: ScreeningResult
) -> tuple[Screening, list[ScreeningFlag]]:
    """Return the unsaved Screening and ScreeningFlag rows that store `result` for `visit`.

    The one place a result becomes rows: screen_visit saves them one visit at a time, and
    the bench's bulk seeding saves many at once.
    """
    screening = Screening(
        visit=visit,
        intake=visit.intake,
        catalogue_version=result.catalogue_version,
        supplementary_version=result.supplementary_version,
        vocabulary_version=result.vocabulary_version,
        decision=result.decision,
        effective_decision=result.decision,
        planned_modality=data.planned_modality,
        focus_regions=list(data.focus_regions),
        visit_date=data.visit_date,
        result=result.to_dict(),
    )
    flags = [
        ScreeningFlag(
            code=flag.code,
            severity=flag.severity,
            title=flag.title[:300],
            matched=list(flag.matched),
            tier=flag.tier,
            item=flag.item[:600],
            suggestions=list(flag.suggestions),
            free_text_only=flag.free_text_only and flag.code != engine.UNRECOGNISED,
            fuzzy_only=flag.fuzzy_only,
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
    return _screened_same(screening, visit, intake_data, current_catalogue())


def restrictions(screening: Screening) -> Restrictions:
    """Return what the screening means now: the engine's policy without the flags a
    therapist dismissed or resolved (and with the rules they said applied)."""
    flags = list(screening.flags.all())
    set_aside = {flag for flag in flags if flag.is_set_aside}
    return engine.restrictions(flags, set_aside=set_aside)


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
            "The screening is out of date (the intake, plan, visit date, rule catalogue or "
            "clinic vocabulary changed since): screen the visit again."
        ]
    effective = restrictions(screening)
    if effective.decision == Decision.CONTRAINDICATED:
        return [
            "Massage is contraindicated: the visit cannot be completed; "
            "it can only be deferred or cancelled, with a reason."
        ]
    problems = []
    for flag in screening.flags.all():
        if flag.is_open_review:
            where, words = item_words(flag.item)
            problems.append(
                f"Resolve “{words}” ({where}): the screener did not understand it. Say which "
                "rule it is, or why it does not matter for massage."
            )
    day = visit_day(visit)
    clearances = list(visit.client.clearances.all())
    for flag in effective.flags:
        if flag.severity != Decision.CLEARANCE:
            continue
        if not any(clearance.covers(flag.code, day) for clearance in clearances):
            problems.append(
                f"Physician clearance needed for “{flag.title}”: no valid clearance on file "
                f"covers it on {day.isoformat()}."
            )
    if effective.flags and not screening.is_acknowledged:
        problems.append("The therapist must acknowledge the screening before completing.")
    performed = vocabulary.normalise_modality(modality or "")
    if performed is None:
        problems.append(f"Unknown technique “{modality}”.")
    elif performed in effective.blocked_modalities:
        problems.append(f"{vocabulary.label('modality', performed)} is blocked by this screening.")
    return problems


def rescreen_scheduled() -> int:
    """Screen again every scheduled visit whose screening is out of date; return how many.

    Run after a clinic vocabulary change, after `migrate` (a new catalogue, or the
    supplementary tier switched) and by `manage.py rescreen`. A visit whose intake cannot be
    screened with its plan is left as it is (its report says the screening is out of date).
    """
    count = 0
    visits = Visit.objects.filter(status=VisitStatus.SCHEDULED, intake__isnull=False)
    for visit in visits.select_related("intake").iterator(chunk_size=200):
        before = visit.current_screening()
        try:
            after = screen_visit(visit=visit)
        except IntakeError:
            continue
        if after != before:
            count += 1
    return count


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
    return list(screen(data, current_catalogue()).unmatched_conditions)


def _parse_visit(visit: Visit) -> IntakeData:
    payload = visit.screening_payload()
    if payload is None:
        raise IntakeError("intake", "the visit has no intake to screen")
    return parse_intake(payload)


def _screened_same(
    screening: Screening, visit: Visit, intake_data: IntakeData, catalogue: Catalogue
) -> bool:
    return (
        screening.intake_id == visit.intake_id
        and screening.planned_modality == intake_data.planned_modality
        and list(screening.focus_regions) == list(intake_data.focus_regions)
        and screening.visit_date == intake_data.visit_date
        and screening.catalogue_version == catalogue.version
        and screening.supplementary_version == catalogue.supplementary_version
        and screening.vocabulary_version == catalogue.vocabulary_version
    )
