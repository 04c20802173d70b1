"""Workflows over clients, intakes and visits that touch several models.

Screening and follow-up build on this app and act through the signals in intake.signals,
sent inside each workflow's transaction (a visit booked or changed is screened; a completion
asks them for problems first, then schedules the follow-up); this module imports neither.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from clinical import vocabulary
from clinical.intake import IntakeData, IntakeError
from intake import previsit, signals
from intake.models import (
    Client,
    ConsentMethod,
    ConsentSource,
    Intake,
    IntakeSource,
    Visit,
    VisitStatus,
)
from statements import rows as statements

# A visit may be recorded as finished up to this long before its scheduled time (a visit
# brought forward on the day); never later than now.
COMPLETED_BEFORE_SCHEDULED = dt.timedelta(days=1)
# Two open visits of one therapist closer than this are a double booking.
VISIT_SLOT = dt.timedelta(minutes=60)


class VisitError(Exception):
    """Raise when a visit cannot move on; `problems` lists each reason in plain words.

    The problems may name a client's conditions (they are shown to the therapist), so the
    exception's own message, which a log or a traceback would carry, only counts them.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(f"the visit cannot move on ({len(self.problems)} problem(s))")


def require_transaction(what: str) -> None:
    """Refuse to go on outside a transaction: `what` is a row lock the caller says it holds,
    or is about to take, which only lasts as long as its transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise ValueError(f"{what} is only held inside a transaction.")


def completion_time_problem(visit: Visit, completed_at: dt.datetime) -> str | None:
    """Return why `completed_at` cannot be the visit's finish time, or None if it can.

    It lies between the scheduled time minus COMPLETED_BEFORE_SCHEDULED and now: a finish
    time in 1999 would expire every check-in at once, and the visit would never reach the
    no-response list.
    """
    if completed_at > timezone.now():
        return "The visit cannot finish in the future."
    earliest = visit.scheduled_at - COMPLETED_BEFORE_SCHEDULED
    if completed_at < earliest:
        when = timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M")
        return f"The visit cannot finish before {when} (a day before it was scheduled)."
    return None


def scheduling_problem(
    *, therapist, scheduled_at: dt.datetime, visit: Visit | None = None, lock: bool = False
) -> str | None:
    """Return why a visit cannot be booked (or moved) to `scheduled_at`, or None if it can.

    Checks scheduling data only, the same for every client: not on a past day, and not
    within VISIT_SLOT of another open visit of the same therapist (double_booking; `lock`
    as there).
    """
    if timezone.localtime(scheduled_at).date() < timezone.localdate():
        return "The visit cannot be scheduled in the past."
    return double_booking(therapist=therapist, scheduled_at=scheduled_at, visit=visit, lock=lock)


def double_booking(
    *, therapist, scheduled_at: dt.datetime, visit: Visit | None = None, lock: bool = False
) -> str | None:
    """Return why `scheduled_at` clashes with another open visit of `therapist`, or None.

    With `lock` (inside a transaction) the therapist's row is locked first, so that two
    bookings of one therapist at the same moment are checked one after the other, and the
    answer holds until the transaction that books the visit commits.
    """
    if lock:
        require_transaction("A therapist's lock")
        therapists = get_user_model().objects.select_for_update().filter(pk=therapist.pk)
        list(therapists.values_list("pk", flat=True))
    clashes = Visit.objects.filter(
        therapist=therapist,
        status=VisitStatus.SCHEDULED,
        scheduled_at__gt=scheduled_at - VISIT_SLOT,
        scheduled_at__lt=scheduled_at + VISIT_SLOT,
    )
    if visit is not None and visit.pk is not None:
        clashes = clashes.exclude(pk=visit.pk)
    clash = clashes.order_by("scheduled_at").first()
    if clash is not None:
        when = timezone.localtime(clash.scheduled_at).strftime("%H:%M")
        return f"The therapist already has a visit at {when}; choose another time."
    return None


def normalise_name(name: str) -> str:
    """Return a name for loose comparison: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def signature_matches(signature_name: str, client: Client) -> bool:
    """Return whether a typed signature is the client's name (ignoring case and spacing)."""
    return bool(signature_name.strip()) and normalise_name(signature_name) == normalise_name(
        client.full_name
    )


def consent_record(*, client: Client, by, source: str, given: bool = True) -> Client:
    """Record the client's follow-up consent (or its withdrawal), saying how they gave it.

    A new consent is the client's own decision, so it also ends an opt-out they made with
    their link; nobody clears an opt-out any other way. Who recorded it, when and how are
    kept on the client and, with every earlier consent, in its change history.
    """
    if source not in ConsentSource.values or source == ConsentSource.UNRECORDED:
        raise ValueError(f"Unknown consent source {source!r}.")
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        client.followup_consent = given
        client.followup_consent_at = timezone.now() if given else None
        client.followup_consent_source = source
        client.followup_consent_by = by
        if given:
            client.opted_out_at = None
        client._history_user = by
        client.save()
    return client


def check_intake_for_record(data: IntakeData, *, today: dt.date | None = None) -> None:
    """Raise IntakeError for what the public contract allows but a new record must not hold."""
    pregnancy = data.pregnancy
    # A current pregnancy's due date lies ahead; a past one is a typo or an old form.
    due_date = pregnancy.due_date if pregnancy and pregnancy.pregnant else None
    if due_date is not None and due_date < data.visit_date:
        raise IntakeError(
            "pregnancy.due_date", "is before the visit date (in the past)", code="due_date_passed"
        )
    illness = data.recent_illness
    if illness and illness.recovered_on and illness.recovered_on > data.visit_date:
        # "Recovered on" a day still to come is a guess: the screening needs the real date.
        raise IntakeError(
            "recent_illness.recovered_on", "is after the visit date", code="recovered_after_visit"
        )
    if pregnancy and not pregnancy.pregnant and (pregnancy.weeks or pregnancy.due_date):
        # from_data would drop the details silently; make the person say which is true.
        raise IntakeError(
            "pregnancy.pregnant",
            "weeks or a due date given but not pregnant",
            code="not_pregnant",
        )


def intake_record(
    *,
    client: Client,
    data: IntakeData,
    by,
    ip: str | None,
    signature_name: str,
    signed_at: dt.datetime | None = None,
    source: str = IntakeSource.STAFF,
    consent_method: str = ConsentMethod.IN_PERSON,
    consent_version: str | None = None,
    client_locked: bool = False,
) -> Intake:
    """Store a new intake for `client` and move their scheduled visits onto it (re-screened).

    `source`, `consent_method` and `consent_version` say who filled it in and how and on
    which consent text the client signed (by default: staff, in person, the built-in text).
    `client_locked` says the caller read `client` with its row lock (select_for_update) in
    the transaction this runs in, so it is not read again.
    """
    if not signature_matches(signature_name, client):
        raise ValueError("The signature must be the client's full name.")
    check_intake_for_record(data)
    if client_locked:
        require_transaction("A locked client")
    # Inside the caller's transaction, no savepoint: any failure rolls the whole of it back.
    # The page every therapist posts several times a day: its statements are built once
    # (statements.rows), each history row copied from the row as stored.
    with transaction.atomic(savepoint=not client_locked):
        # Lock the client so two intakes saved at once still form one `previous` chain.
        if not client_locked:
            client = Client.objects.select_for_update().get(pk=client.pk)
        now = timezone.now()
        intake = Intake.from_data(
            data,
            client=client,
            entered_by=by,
            entered_from=ip or None,
            signature_name=signature_name.strip(),
            signed_at=signed_at or now,
            source=source,
            consent_method=consent_method,
            **({"consent_version": consent_version} if consent_version else {}),
        )
        # Its `previous` is read by the INSERT itself, under the client's lock; the intake and
        # its history go in one statement.
        statements.insert(
            intake,
            history=statements.History(statements.CREATED, by, now),
            computed={"previous_id": (_latest_intake_sql(), [client.pk])},
        )
        # The client's scheduled visits move onto it, locked by the update that moves them,
        # their history written by the same statement.
        visits = statements.update_where(
            Visit,
            {"intake_id": intake.pk, "updated_at": now},
            history=statements.History(statements.CHANGED, by, now),
            client_id=client.pk,
            status=VisitStatus.SCHEDULED,
        )
        for visit in sorted(visits, key=lambda v: (v.scheduled_at, v.pk)):
            visit.intake = intake
            # No screening of an intake recorded just now exists: none is read.
            _screen(visit, new_intake=True)
    return intake


@statements.built_once
def _latest_intake_sql(*, q: str) -> str:
    """The id of a client's latest intake (as client.latest_intake() orders), or NULL."""
    table = Intake._meta.db_table
    return (
        f"SELECT {q}id{q} FROM {q}{table}{q} WHERE {q}client_id{q} = %s "  # noqa: S608 (names from the models)
        f"ORDER BY {q}created_at{q} DESC, {q}id{q} DESC LIMIT 1"
    )


def visit_schedule(
    *,
    client: Client,
    therapist,
    scheduled_at: dt.datetime,
    planned_modality: str,
    focus_regions: list[str],
    by,
) -> Visit:
    """Book a visit on the client's latest intake and screen the plan.

    Booking never fails for a reason found in the health history (whoever books must not
    learn it from a refusal): when the intake cannot be screened for this plan, the visit is
    booked unscreened and `visit.plan_problems` says why, for a therapist to see. A time
    that clashes with another visit of the therapist raises VisitError (checked with the
    therapist locked, so two bookings at one moment cannot both pass).
    """
    modality, regions = _normalised_plan(planned_modality, focus_regions)
    with transaction.atomic():
        clash = double_booking(therapist=therapist, scheduled_at=scheduled_at, lock=True)
        if clash:
            raise VisitError(clash)
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
        # The client's health form link, sent now or before the visit (rows only).
        previsit.schedule_links(visit=visit)
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
    """Change a scheduled visit's time, therapist or plan and screen the new plan.

    As with visit_schedule, the change is kept even when the new plan cannot be screened;
    `visit.plan_problems` says why. A time that clashes with another visit of the therapist
    raises VisitError (as in visit_schedule).
    """
    modality, regions = _normalised_plan(planned_modality, focus_regions)
    with transaction.atomic():
        # The therapist before the visit, in the order the admin's form locks them.
        clash = double_booking(
            therapist=therapist or visit.therapist,
            scheduled_at=scheduled_at,
            visit=visit,
            lock=True,
        )
        if clash:
            raise VisitError(clash)
        visit = _locked_open_visit(visit, "changed")
        visit.scheduled_at = scheduled_at
        visit.planned_modality = modality
        visit.focus_regions = regions
        if therapist is not None:
            visit.therapist = therapist
        visit._history_user = by
        visit.save()
        _screen(visit)
        previsit.visit_moved(visit=visit)
    return visit


def visit_complete(
    *, visit: Visit, by, modality: str, completed_at: dt.datetime | None = None
) -> Visit:
    """Complete a visit after screening agrees, and schedule its follow-up check-ins.

    All of it happens in one transaction: a refused completion stores nothing, and a visit
    is never completed without its check-ins.
    """
    performed = vocabulary.normalise_modality(modality or "")
    if performed is None:
        raise VisitError(f"Unknown modality {modality!r}.")
    with transaction.atomic():
        visit = _locked_open_visit(visit, "completed")
        completed_at = completed_at or timezone.now()
        late = completion_time_problem(visit, completed_at)
        if late:
            raise VisitError(late)
        problems = signals.completion_problems(visit, performed)
        if problems:
            raise VisitError(problems)
        intake = visit.intake
        visit.status = VisitStatus.COMPLETED
        visit.performed_modality = performed
        visit.completed_at = completed_at
        visit.completed_by = by
        # The follow-up compares each answer with this, so "no pain recorded" counts as 0.
        visit.baseline_pain = intake.pain_score if intake and intake.pain_score is not None else 0
        visit._history_user = by
        visit.save()
        previsit.cancel_links(visit=visit, reason="the visit took place")
        signals.visit_completed.send(sender=Visit, visit=visit)
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
        previsit.cancel_links(visit=visit, reason=f"the visit was {status}")
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
    modality = vocabulary.normalise_modality(planned_modality or "")
    if modality is None:
        raise VisitError(f"Unknown modality {planned_modality!r}.")
    regions = []
    for name in focus_regions:
        code = vocabulary.normalise_region(name)
        if code is None:
            raise VisitError(f"Unknown region {name!r}.")
        if code not in regions:
            regions.append(code)
    return modality, regions


def _screen(visit: Visit, *, new_intake: bool = False) -> None:
    # A visit without an intake has nothing to screen yet; recording one screens it.
    visit.plan_problems = []
    if visit.intake_id is not None:
        visit.plan_problems = signals.plan_problems(visit, new_intake=new_intake)
