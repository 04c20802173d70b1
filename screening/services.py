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
records who and when (and simple-history keeps each change).
"""

from __future__ import annotations

import datetime
import hashlib
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from clinical import vocabulary
from clinical.catalogue import Catalogue, ClinicTerm, get_catalogue
from clinical.intake import IntakeData, IntakeError, parse_intake
from intake.models import Client, Visit, VisitStatus
from screening import engine
from screening.engine import REASONS, Restrictions, ScreeningResult, screen
from screening.models import (
    Clearance,
    Decision,
    Origin,
    Resolution,
    Screening,
    ScreeningFlag,
    VocabularyTerm,
)
from staff.roles import is_therapist

MAX_NOTE_CHARS = 2_000
MAX_DOCTOR_NAME_CHARS = 200


MAX_TERM_CHARS = 120
_FIELD = re.compile(r"^(conditions|medications|allergies)\[(\d+)\](\.notes)?$")
_FIELD_WORDS = {"conditions": "condition", "medications": "medication", "allergies": "allergy"}


def current_catalogue() -> Catalogue:
    """Return the catalogue as this clinic screens with it now.

    The seed tier always; the supplementary tier unless SCREENING_SUPPLEMENTARY is off; and
    the clinic's active vocabulary terms (one small query; the compiled catalogue is cached
    per vocabulary version).
    """
    terms = tuple(
        ClinicTerm(phrase, rule_code)
        for phrase, rule_code in VocabularyTerm.objects.filter(status=VocabularyTerm.Status.ACTIVE)
        .order_by("phrase", "rule_code")
        .values_list("phrase", "rule_code")
    )
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


def screen_visit(*, visit: Visit) -> Screening:
    """Screen the visit's intake with its plan and store the result, unless nothing changed.

    Returns the current screening when it was made from the same intake, plan, visit date
    and catalogue version, or when the visit is already closed; otherwise stores a new one.
    A new screening starts fresh: its acknowledgement and any dismissals must be given
    again, because what the therapist confirmed was a different result. Raises IntakeError
    when the visit has no intake or its intake with this plan is not valid.
    """
    intake_data = _parse_visit(visit)
    catalogue = current_catalogue()
    with transaction.atomic():
        # Lock the visit so two saves of the same plan cannot store two screenings.
        Visit.objects.select_for_update().filter(pk=visit.pk).first()
        current = visit.current_screening()
        if current is not None and not visit.is_open:
            # A completed, deferred or cancelled visit keeps the screening it was closed on.
            return current
        if current is not None and _screened_same(current, visit, intake_data, catalogue):
            return current
        result = screen(intake_data, catalogue)
        screening, flags = screening_rows(visit=visit, data=intake_data, result=result)
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
    if not flag.dismissible:
        # Structured answers (conditions, medications, pregnancy...) are the client's own
        # statements; only a keyword found in free text, or a spelling guess, can be a false
        # match. A review item is resolved, not dismissed.
        raise ValidationError(
            "Only a flag that matched in free text alone, or by a spelling guess, can be dismissed."
        )
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


def review_resolve(
    *,
    flag: ScreeningFlag,
    by,
    resolution: str,
    rule_code: str = "",
    reason: str = "",
    propose_term: bool = False,
) -> ScreeningFlag:
    """Resolve a review item: "this is <rule>" (the rule then applies) or "not relevant to
    massage" with a reason; record who and when, and store the decision now.

    With `propose_term`, the item's words are proposed as a clinic vocabulary term for the
    rule (a clinical lead activates it in the admin).
    """
    screening = flag.screening
    _check_changeable(screening, by)
    reason = (reason or "").strip()
    if not flag.is_review_item:
        raise ValidationError("Only an item the screener did not understand can be resolved.")
    if len(reason) > MAX_NOTE_CHARS:
        raise ValidationError(f"The reason is longer than {MAX_NOTE_CHARS} characters.")
    rule = None
    if resolution == Resolution.RULE:
        catalogue = current_catalogue()
        try:
            rule = catalogue.rule(rule_code)
        except KeyError:
            raise ValidationError("Choose the rule this item is.") from None
    elif resolution == Resolution.NOT_RELEVANT:
        if not reason:
            raise ValidationError("Give the reason it does not matter for massage.")
        if propose_term:
            raise ValidationError("Only an item resolved as a rule can be proposed as a term.")
    else:
        raise ValidationError("Say which rule this is, or that it is not relevant to massage.")
    now = timezone.now()
    with transaction.atomic():
        locked = ScreeningFlag.objects.select_for_update().get(pk=flag.pk)
        if locked.is_resolved:
            raise ValidationError("This item has already been resolved.")
        locked.resolution = resolution
        locked.resolved_rule = rule.code if rule else ""
        locked.resolution_reason = reason
        locked.resolved_by = by
        locked.resolved_at = now
        locked.save(
            update_fields=[
                "resolution",
                "resolved_rule",
                "resolution_reason",
                "resolved_by",
                "resolved_at",
            ]
        )
        if rule is not None:
            where, words = item_words(locked.item)
            _add_rule_flag(
                screening,
                rule,
                item=locked.item,
                matched=f"{where}: {words} (the therapist said this is this rule)",
                origin=Origin.RESOLUTION,
                by=by,
                at=now,
            )
            if propose_term and words.strip():
                VocabularyTerm.objects.get_or_create(
                    phrase=words.strip()[:MAX_TERM_CHARS].lower(),
                    rule_code=rule.code,
                    defaults={
                        "proposed_by": by,
                        "note": f"Proposed when resolving a review item on {now:%Y-%m-%d}.",
                    },
                )
        refresh_decision(screening=Screening.objects.get(pk=screening.pk))
    return locked


def mention_count(*, screening: Screening, index: int, by) -> ScreeningFlag:
    """Count a mention the screener did not count ("mentioned, not counted"), as its rule."""
    _check_changeable(screening, by)
    mentions = screening.result.get("mentions_not_counted") or []
    if not 0 <= index < len(mentions):
        raise ValidationError("That mention is not on this screening.")
    mention = mentions[index]
    rule = current_catalogue().find_rule(mention["code"])
    if rule is None or rule.order < 0:
        raise ValidationError("That rule is not in the catalogue the clinic uses now.")
    item = f"{mention['field']}: {mention['text']}"[:600]
    now = timezone.now()
    with transaction.atomic():
        Screening.objects.select_for_update().filter(pk=screening.pk).first()
        if ScreeningFlag.objects.filter(screening=screening, code=rule.code, item=item).exists():
            raise ValidationError("This mention has already been counted.")
        reason = REASONS.get(mention["reason"], mention["reason"])
        flag = _add_rule_flag(
            screening,
            rule,
            item=item,
            matched=(
                f"{field_words(mention['field'])}: {mention['text']} (counted by the therapist; "
                f"the screener had read it as {reason})"
            ),
            origin=Origin.COUNTED,
            by=by,
            at=now,
        )
        refresh_decision(screening=Screening.objects.get(pk=screening.pk))
    return flag


def _add_rule_flag(screening, rule, *, item, matched, origin, by, at) -> ScreeningFlag:
    """Add a flag of `rule` a therapist decided on, with the rule's details in the result."""
    detail = engine.Flag(
        rule.code,
        rule.severity,
        rule.title,
        rule.category,
        (matched,),
        rule.actions,
        rule.avoid_modalities,
        rule.avoid_regions,
        rule.sources,
        tier=rule.tier,
    ).to_dict()
    locked = Screening.objects.select_for_update().get(pk=screening.pk)
    added = dict(locked.result.get("added") or {})
    added[f"{rule.code}|{item}"] = detail
    locked.result = {**locked.result, "added": added}
    locked.save(update_fields=["result"])
    screening.result = locked.result
    return ScreeningFlag.objects.create(
        screening=screening,
        code=rule.code,
        severity=rule.severity,
        title=rule.title[:300],
        matched=[matched],
        tier=rule.tier,
        item=item,
        origin=origin,
        added_by=by,
        added_at=at,
    )


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


def clearance_codes() -> dict[str, str]:
    """Return the catalogue's rules of severity `clearance` as {code: title}."""
    return {
        rule.code: rule.title
        for rule in current_catalogue().rules
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
    requested_for: Visit | None = None,
) -> Clearance:
    """Record a physician's clearance for the client, covering some `clearance` rule codes
    (in reply to the clearance-request letter of `requested_for`, when given)."""
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
        requested_for=requested_for
        if requested_for and requested_for.client_id == client.pk
        else None,
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
