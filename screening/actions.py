"""What a therapist does with a screening: acknowledge it, dismiss a flag found only in free
text, resolve a review item, count a mention the screener set aside, and record a physician's
clearance. Each records who and when; each change of what counts goes through the one
restriction policy (`services.restrictions`) and is stored as the screening's decision.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from intake.models import Client, Visit
from screening import engine
from screening.engine import REASONS
from screening.models import (
    Clearance,
    Decision,
    Origin,
    Resolution,
    Screening,
    ScreeningFlag,
    VocabularyTerm,
)
from screening.services import (
    MAX_DOCTOR_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_TERM_CHARS,
    current_catalogue,
    field_words,
    is_current,
    item_words,
    restrictions,
)
from staff.roles import is_therapist


def screening_acknowledge(*, screening: Screening, by, note: str = "") -> Screening:
    """Record that a therapist has read the screening (who, when, an optional note)."""
    check_changeable(screening, by)
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
    check_changeable(flag.screening, by)
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
    check_changeable(screening, by)
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
    check_changeable(screening, by)
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


def check_changeable(screening: Screening, by) -> None:
    if not is_therapist(by):
        raise PermissionDenied("Only therapists act on screenings.")
    visit = screening.visit
    if not visit.is_open:
        raise ValidationError(f"The visit is {visit.get_status_display().lower()}; it is closed.")
    if visit.current_screening() != screening:
        raise ValidationError("This screening has been replaced by a newer one; reload the page.")
    if not is_current(screening=screening, visit=visit):
        raise ValidationError("This screening is out of date; screen the visit again first.")
