"""Query budgets of the hot paths: every statement the intake POST and the check-in page issue.

Each test lists the statements one request issues, in order, as (verb, table) with a comment
saying why it is needed, and compares them with what the request really sent. A new query
on these paths fails here with the whole list printed; `make bench` measures their cost as
ratios (nothing here is timed). Under the test runner each request's transactions are
savepoints; in production they are BEGIN/COMMIT, which Django does not log as queries.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn, CheckInStatus, Escalation
from statements import rows as statements
from tests.factories import CheckInFactory, ClientFactory, IntakeFactory, VisitFactory
from tests.intake.conftest import intake_post

pytestmark = pytest.mark.django_db

_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"([a-z_]+)"')
_WITH_WRITE = re.compile(r'WITH "stored" AS \((INSERT|UPDATE) (?:INTO )?"([a-z_]+)"')

SAVEPOINT = ("SAVEPOINT", "")
RELEASE = ("RELEASE", "")


def shape(sql: str) -> tuple[str, str]:
    """Return a statement's verb and first table, e.g. ("SELECT FOR UPDATE", "intake_client");
    a write with its history rows in the same statement is ("INSERT+HISTORY", table)."""
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return (verb, "")
    if verb == "WITH":
        written = _WITH_WRITE.match(sql)
        assert written, f"not a write with its history: {sql[:160]}"
        return (f"{written.group(1)}+HISTORY", written.group(2))
    if verb == "SELECT" and " FOR UPDATE" in sql:
        verb = "SELECT FOR UPDATE"
    match = _TABLE.search(sql)
    return (verb, match.group(1) if match else "")


def _history_table(table: str) -> str:
    app, model = table.split("_", 1)
    return f"{app}_historical{model}"


def assert_statements(queries: CaptureQueriesContext, expected: list[tuple[str, str]]) -> None:
    sent = [shape(q["sql"]) for q in queries.captured_queries]
    if not connection.features.has_select_for_update:
        # SQLite (the embedded mode) has no row locks: the same statements, unlocked.
        expected = [
            ("SELECT", table) if verb == "SELECT FOR UPDATE" else (verb, table)
            for verb, table in expected
        ]
    if not statements.merges_history():
        # Nor writes in a WITH: each history is copied by the statement after its write.
        expected = [
            pair
            for verb, table in expected
            for pair in (
                [(verb.removesuffix("+HISTORY"), table), ("INSERT", _history_table(table))]
                if verb.endswith("+HISTORY")
                else [(verb, table)]
            )
        ]
    listing = "\n".join(f"  {q['sql'][:160]}" for q in queries.captured_queries)
    assert sent == expected, f"{len(sent)} statements sent (expected {len(expected)}):\n{listing}"


# ---- the intake form POST ----------------------------------------------------------------

# A therapist's session, then the intake stored and the client's one scheduled visit moved
# onto it and screened again.
# The user's groups, for the role, come from the cache (staff.role_cache): no query.
STAFF_REQUEST = [
    ("SELECT", "django_session"),  # the session
    ("SELECT", "auth_user"),  # the signed-in user
]
SESSION_SAVE = [
    SAVEPOINT,
    ("UPDATE", "django_session"),  # the session's idle expiry moves on (every request)
    RELEASE,
]
INTAKE_POST = [
    *STAFF_REQUEST,
    SAVEPOINT,  # the intake's transaction
    ("SELECT FOR UPDATE", "intake_client"),  # the client (404 if none), read once, locked
    # The intake and its change history; its `previous` (the latest intake's id) is read by
    # the INSERT itself.
    ("INSERT+HISTORY", "intake_intake"),
    # The client's scheduled visits moved onto it (returned, for screening), their history.
    ("UPDATE+HISTORY", "intake_visit"),
    ("SELECT", "screening_vocabularyterm"),  # the clinic's vocabulary (screening's terms)
    # Screening the visit, in the intake's transaction, on the visit it already locked. No
    # screening of an intake recorded just now exists: the current one is not read.
    ("INSERT+HISTORY", "screening_screening"),  # the new screening and its change history
    ("INSERT+HISTORY", "screening_screeningflag"),  # its flags and theirs, in one statement
    RELEASE,
    *SESSION_SAVE,
]


def test_the_intake_post_issues_only_its_statements(client, therapist):
    person = ClientFactory(first_name="Ana", last_name="Lopez")
    intake = IntakeFactory(client=person, entered_by=therapist)
    VisitFactory(client=person, intake=intake, therapist=therapist)
    client.force_login(therapist)
    url = reverse("intake:intake_create", args=[person.pk])
    client.post(url, intake_post(person))  # warm: content types, catalogue, vocabulary

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, intake_post(person))

    assert response.status_code == 302
    assert_statements(queries, INTAKE_POST)


# ---- the check-in answer page ------------------------------------------------------------

FIND_CHECKIN = [
    ("SELECT", "followup_checkin"),  # the check-in by its link's hash (the row alone)
]
RECORD_ANSWER = [
    SAVEPOINT,  # the answer's transaction
    # The check-in by its link's hash, locked and its link closed (answered) while it still
    # works, in one UPDATE that returns the row: one answer (messaging.links).
    ("UPDATE", "followup_checkin"),
    ("INSERT", "followup_checkinanswer"),  # the answer
    ("SELECT FOR UPDATE", "intake_visit"),  # the visit's baseline, locked: one evaluation
    ("SELECT", "followup_checkinanswer"),  # every answer of the visit, for the policy
]
# GET: the blank page itself is rendered once per process (followup.pages).
CHECKIN_GET = [*FIND_CHECKIN]
CHECKIN_POST_CALM = [*RECORD_ANSWER, RELEASE]
CHECKIN_POST_ESCALATING = [
    *RECORD_ANSWER,
    ("SELECT", "followup_escalation"),  # the visit's escalations so far (one stays open)
    ("INSERT", "followup_escalation"),  # none open: the escalation, with its first level
    RELEASE,
]


@pytest.fixture
def checkin(db):
    when = timezone.now() - dt.timedelta(days=1)
    intake = IntakeFactory(pain_score=2)
    visit = VisitFactory(
        client=intake.client,
        intake=intake,
        status="completed",
        completed_at=when,
        performed_modality="swedish",
        baseline_pain=2,
    )
    return CheckInFactory(visit=visit, policy_hours=24, sent=True)


def _answer(checkin: CheckIn, **answer) -> tuple[CaptureQueriesContext, object]:
    browser = Browser()  # a client's phone: no session, no login
    url = reverse("followup:answer", args=[checkin.token])
    data = {"score": "2", "character": "dull", "radiating": "no", "note": "", **answer}
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(url, data)
    assert response.status_code == 200
    return queries, response


def test_the_checkin_get_issues_only_its_statements(checkin):
    browser = Browser()
    url = reverse("followup:answer", args=[checkin.token])
    browser.get(url)  # warm

    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)

    assert response.status_code == 200
    assert_statements(queries, CHECKIN_GET)


def test_a_calm_answer_issues_only_its_statements(checkin):
    queries, _ = _answer(checkin)

    assert_statements(queries, CHECKIN_POST_CALM)
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    assert not Escalation.objects.exists()


def test_an_escalating_answer_issues_only_its_statements(checkin):
    queries, _ = _answer(checkin, score="9", character="sharp")

    assert_statements(queries, CHECKIN_POST_ESCALATING)
    assert Escalation.objects.filter(visit=checkin.visit).count() == 1
