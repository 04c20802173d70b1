"""The client's answers: find a check-in by its link token, record the one answer, and
evaluate the visit's answers with the pure escalation policy (followup.escalation).

An answer that the policy escalates opens an escalation (followup.escalations).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import transaction

from followup import escalation as policy
from followup.escalations import open_escalation
from followup.models import CheckIn, CheckInAnswer, Escalation
from intake.models import Visit
from messaging import links
from statements import rows as statements

# A visit without baseline pain is compared against "no pain": the conservative choice,
# since every rise then counts.
DEFAULT_BASELINE_PAIN = 0


def find_checkin(token: str) -> CheckIn | None:
    """Return the check-in a link token belongs to, or None (any status)."""
    return links.find(CheckIn.objects.select_related("visit__client"), token)


def find_answerable(token: str) -> CheckIn | None:
    """Return the check-in of a link that can still be answered, or None: the row alone, and
    of it only what says whether its link works (links.LINK_FIELDS)."""
    checkin = links.find_row(CheckIn, token, fields=links.LINK_FIELDS)
    return checkin if checkin is not None and checkin.is_answerable() else None


@dataclass(frozen=True)
class AnswerOutcome:
    """What recording an answer did: `recorded` False means the link could not be used."""

    recorded: bool
    level: str | None = None
    escalation: Escalation | None = None


def record_answer(
    *,
    checkin: CheckIn,
    score: int,
    character: str,
    radiating: bool,
    red_flags: list[str],
    note: str = "",
) -> AnswerOutcome:
    """Store the check-in's one answer, then escalate to the therapist if the policy says so."""
    with transaction.atomic():
        locked = CheckIn.objects.select_for_update().get(pk=checkin.pk)
        return _record(locked, score, character, radiating, red_flags, note)


def record_link_answer(
    *, token: str, score: int, character: str, radiating: bool, red_flags: list[str], note=""
) -> AnswerOutcome:
    """Record the answer sent with a link: the check-in is found, locked and its link closed
    by one statement."""
    with transaction.atomic():
        closed = links.close_for_answer(CheckIn, token)
        if closed is None:
            return AnswerOutcome(recorded=False)
        return _store(closed, score, character, radiating, red_flags, note)


def _record(locked, score, character, radiating, red_flags, note) -> AnswerOutcome:
    # The row lock makes the "still answerable?" check and the answer one step, so a
    # double submit or two tabs can never store two answers (the OneToOne backs it).
    # One answer closes the check-in's link, and with it every copy of its message.
    if locked is None or not locked.is_answerable() or not links.mark_answered(locked):
        return AnswerOutcome(recorded=False)
    return _store(locked, score, character, radiating, red_flags, note)


def _store(locked, score, character, radiating, red_flags, note) -> AnswerOutcome:
    # `locked`: the check-in, its row locked and its link closed in this transaction.
    # The statements of every answer are built once (statements.rows): this is the page
    # every client of the clinic posts to.
    statements.insert(
        CheckInAnswer(
            checkin=locked,
            score=score,
            character=character,
            radiating=radiating,
            red_flags=list(red_flags),
            note=note,
        )
    )
    # One evaluation per visit at a time, so two check-ins answered at once both see
    # each other's answers (and the unique (visit, level) backs it anyway).
    visit = statements.select_one(Visit, lock=True, fields=["baseline_pain"], id=locked.visit_id)
    result = evaluate_visit(visit)
    # Most answers escalate nothing: then there is no need to read the visit's escalations.
    escalation = None
    if result.level is not None:
        escalation = open_escalation(visit=visit, checkin=locked, result=result)
    return AnswerOutcome(recorded=True, level=result.level, escalation=escalation)


_ANSWER_COLUMNS = ("score", "character", "radiating", "red_flags")


@statements.built_once
def _answers_sql(*, q: str) -> str:
    answer, checkin = CheckInAnswer._meta.db_table, CheckIn._meta.db_table
    columns = ", ".join(f"{q}a{q}.{q}{c}{q}" for c in _ANSWER_COLUMNS)
    return (
        f"SELECT {q}c{q}.{q}policy_hours{q}, {columns} FROM {q}{answer}{q} {q}a{q} "  # noqa: S608 (names from the models)
        f"INNER JOIN {q}{checkin}{q} {q}c{q} ON {q}a{q}.{q}checkin_id{q} = {q}c{q}.{q}id{q} "
        f"WHERE {q}c{q}.{q}visit_id{q} = %s ORDER BY {q}c{q}.{q}policy_hours{q}"
    )


@functools.cache
def _answer_fields() -> tuple:
    get = CheckInAnswer._meta.get_field
    return (CheckIn._meta.get_field("policy_hours"), *map(get, _ANSWER_COLUMNS))


def visit_answers(visit: Visit) -> list[policy.Answer]:
    """Return the visit's answers in the policy's terms (hours = the check-in's position)."""
    fields = _answer_fields()
    rows = [statements.convert(row, fields) for row in statements.fetch(_answers_sql(), [visit.pk])]
    return [
        policy.Answer(
            hours=hours,
            score=score,
            character=character,
            radiating=radiating,
            red_flags=tuple(red_flags),
        )
        for hours, score, character, radiating, red_flags in rows
    ]


def evaluate_visit(visit: Visit) -> policy.EscalationResult:
    """Evaluate all of a visit's answers with the pure escalation policy."""
    baseline = visit.baseline_pain
    return policy.evaluate(
        baseline_pain=DEFAULT_BASELINE_PAIN if baseline is None else baseline,
        answers=visit_answers(visit),
    )
