"""Fair floors for `make bench`: the hot paths' necessary statements in raw SQL, nothing else.

The plain floor (clinic/bench_views.py) is the cheapest page or write the stack can serve; no
implementation of a real page can reach it. A fair floor issues the statements the page
cannot do without, in raw SQL, with no form, no template, no model objects: a row copied
from an existing one stands for a row built from the request. The gap between a page and its
fair floor is what the framework work (forms, templates, ORM) costs; the gap between the fair
floor and the plain one is what the data itself costs.

Served only by the bench's own URLconf (bench/urls.py) and only in the bench's server, with
the same middleware as the pages they are floors for.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from followup import escalation as policy
from followup.escalations import enqueue_therapist_notification
from followup.models import CheckIn, CheckInAnswer, Escalation
from intake.models import Intake, Visit
from messaging.links import hash_token
from messaging.models import ANSWERABLE
from messaging.throttle import count_request
from screening.models import Screening, ScreeningFlag, VocabularyTerm
from statements import rows as statements

_PAGE = (
    "<!doctype html><title>fair floor</title><form method=post>"
    + "".join(f'<input type=radio name=score value="{i}">' for i in range(11))
    + "<button>Send</button></form>"
)
_DONE = "<!doctype html><title>fair floor</title><p>Thank you.</p>"
RATE_WINDOW = 60
_ANSWERABLE = "(" + ", ".join(f"'{status.value}'" for status in ANSWERABLE) + ")"


def _lock() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


@functools.cache
def _copy_sql(
    model, replaced: tuple[str, ...], where: str, exprs: tuple[tuple[str, str], ...] = ()
) -> str:
    """INSERT a copy of the row of `model` matching `where`: the `replaced` columns given as
    parameters, the `exprs` columns as SQL expressions of the row copied."""
    table = model._meta.db_table
    columns = [c for c in _columns(model) if c != model._meta.pk.column]
    by_column = dict(exprs)
    values = ", ".join("%s" if c in replaced else by_column.get(c, f'"{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" WHERE {where}'


def _written(cursor, model, write: str, params: list, history: statements.History) -> list[int]:
    """Run `write` (an INSERT or UPDATE) and write the history of the rows it wrote as the
    pages do (statements.rows): in the same statement where the database allows it, else in
    a second one. Return the ids of the rows written."""
    if statements.merges_history():
        cursor.execute(
            statements.with_history_sql(model, write, ("id",)), [*params, *history.params(model)]
        )
        return [key for (key,) in cursor.fetchall()]
    cursor.execute(f"{write} RETURNING id", params)
    keys = [key for (key,) in cursor.fetchall()]
    statements.copy_history_of(model, history, keys)
    return keys


def _ordered(replaced: dict, model) -> list:
    columns = [c for c in _columns(model) if c != model._meta.pk.column]
    return [replaced[c] for c in columns if c in replaced]


_LATEST_INTAKE = (
    "(SELECT id FROM intake_intake WHERE client_id = %s ORDER BY created_at DESC, id DESC LIMIT 1)"
)
_LATEST_SCREENING = (
    "(SELECT id FROM screening_screening WHERE visit_id = %s{} "
    "ORDER BY created_at DESC, id DESC LIMIT 1)"
)


@require_POST
def intake(request, client_id: int):
    """The intake POST's statements: the client locked, the intake stored with its history
    (its `previous` read by the INSERT), the scheduled visits moved onto it with their
    history, each screened again (screening, flags and their history). The intake and the
    screening are copies of the latest ones."""
    request.POST  # noqa: B018 (the form body is parsed, as the real view's form does)
    now = timezone.now()
    created = statements.History(statements.CREATED, request.user.pk, now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM intake_client WHERE id = %s{_lock()}", [client_id])
        copy = _copy_sql(
            Intake, ("created_at",), f"id = {_LATEST_INTAKE}", (("previous_id", '"id"'),)
        )
        (intake_id,) = _written(cursor, Intake, copy, [now, client_id], created)
        # The scheduled visits moved in one UPDATE that returns them, with their history.
        moved = _written(
            cursor,
            Visit,
            "UPDATE intake_visit SET intake_id = %s, updated_at = %s "
            "WHERE client_id = %s AND status = 'scheduled'",
            [intake_id, now, client_id],
            statements.History(statements.CHANGED, request.user.pk, now),
        )
        for visit_id in moved:
            _screen_again(cursor, visit_id, intake_id, created)
    return HttpResponseRedirect(f"/intakes/{intake_id}/")


def _screen_again(cursor, visit_id: int, intake_id: int, created: statements.History) -> None:
    # Screening reads the clinic's active vocabulary; a new intake has no screening yet, so
    # the page reads none (the copy below takes the visit's last one as its model row).
    cursor.execute(
        "SELECT phrase, rule_code FROM screening_vocabularyterm WHERE status = %s ORDER BY 1, 2",
        [VocabularyTerm.Status.ACTIVE],
    )
    cursor.fetchall()
    replaced = {"intake_id": intake_id, "created_at": created.when}
    copy = _copy_sql(Screening, tuple(replaced), f"id = {_LATEST_SCREENING.format('')}")
    written = _written(cursor, Screening, copy, [*_ordered(replaced, Screening), visit_id], created)
    if not written:
        return
    (screening_id,) = written
    # The flags of the screening copied (the visit's last one before the new one).
    source = _LATEST_SCREENING.format(" AND id <> %s")
    flags = _copy_sql(ScreeningFlag, ("screening_id",), f"screening_id = {source}")
    _written(cursor, ScreeningFlag, flags, [screening_id, visit_id, screening_id], created)


def _count_request(request) -> None:
    """The per-address rate limit of the token pages (one Redis round trip, as the real one)."""
    key = f"bench:fair:rate:{request.META.get('HTTP_X_FORWARDED_FOR', '')}"
    count_request(key, window=RATE_WINDOW)


_FIND = (
    "SELECT id, visit_id, status, expires_at, policy_hours FROM followup_checkin "
    "WHERE token_hash = %s"
)


def _answerable(row, now) -> bool:
    if row is None or row[2] not in ANSWERABLE:
        return False
    expires_at = row[3]
    if timezone.is_naive(expires_at):  # SQLite's driver gives UTC times without their zone
        expires_at = timezone.make_aware(expires_at, dt.UTC)
    return expires_at > now


@csrf_exempt
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    """The check-in page's statements: GET finds the check-in by its link; POST locks it,
    stores the answer, marks it answered, locks the visit, reads its answers for the policy
    and, when the policy says so, opens an escalation and hands its alert to a worker."""
    _count_request(request)
    now = timezone.now()
    with connection.cursor() as cursor:
        if request.method == "GET":
            cursor.execute(_FIND, [hash_token(token)])
            row = cursor.fetchone()
            if not _answerable(row, now):
                return HttpResponse(status=404)
            return HttpResponse(_PAGE)
        with transaction.atomic():
            # Found, locked and its link closed while it works, as messaging.links does.
            cursor.execute(
                f"UPDATE {CheckIn._meta.db_table} SET status = 'answered', "
                "sent_at = COALESCE(sent_at, claimed_at, %s), claimed_at = NULL, "
                f"next_attempt_at = NULL WHERE token_hash = %s AND status IN {_ANSWERABLE} "
                "AND expires_at > %s RETURNING id, visit_id",
                [now, hash_token(token), now],
            )
            row = cursor.fetchone()
            if row is None:
                return HttpResponse(status=404)
            checkin_id, visit_id = row
            score = int(request.POST.get("score", "0"))
            character = request.POST.get("character", "none")
            cursor.execute(
                f"INSERT INTO {CheckInAnswer._meta.db_table} (checkin_id, score, character, "
                "radiating, red_flags, note, answered_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [checkin_id, score, character, False, "[]", "", now],
            )
            cursor.execute(
                f"SELECT baseline_pain FROM intake_visit WHERE id = %s{_lock()}", [visit_id]
            )
            (baseline,) = cursor.fetchone()
            cursor.execute(
                "SELECT c.policy_hours, a.score, a.character, a.radiating FROM "
                "followup_checkinanswer a JOIN followup_checkin c ON c.id = a.checkin_id "
                "WHERE c.visit_id = %s ORDER BY c.policy_hours",
                [visit_id],
            )
            answers = [
                policy.Answer(hours=h, score=s, character=c, radiating=r, red_flags=())
                for h, s, c, r in cursor.fetchall()
            ]
            result = policy.evaluate(baseline_pain=baseline or 0, answers=answers)
            if result.level is not None:
                _escalate(cursor, visit_id, checkin_id, result.level, now)
    return HttpResponse(_DONE)


def _step(level: str, checkin_id: int, now) -> dict:
    """The escalation's first level in its history, as the real page records it."""
    return {"level": level, "at": now.isoformat(), "checkin": checkin_id, "reasons": []}


def _escalate(cursor, visit_id: int, checkin_id: int, level: str, now) -> None:
    cursor.execute(f"SELECT level FROM {Escalation._meta.db_table} WHERE visit_id = %s", [visit_id])
    if {r[0] for r in cursor.fetchall()} & {level, "urgent"}:
        return
    cursor.execute(
        f"INSERT INTO {Escalation._meta.db_table} (visit_id, level, reasons, checkin_id, status, "
        "opened_at, acknowledgement_note, resolution_note, notify_status, notify_attempts, "
        "notify_error, notify_retry_at, level_history) VALUES (%s, %s, '[]', %s, 'open', %s, "
        "'', '', 'pending', 0, '', %s, %s) RETURNING id",
        [visit_id, level, checkin_id, now, now, json.dumps([_step(level, checkin_id, now)])],
    )
    (escalation_id,) = cursor.fetchone()
    transaction.on_commit(lambda: enqueue_therapist_notification(escalation_id))
