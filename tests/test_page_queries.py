"""Query counts of the busy staff pages do not grow with the number of rows they list.

Each page is loaded with 3 rows and then with 30; both loads issue exactly the page's budget
of queries (EXACT_QUERIES, each one named). `make bench` prints the same counts with 10,000
clients (bench/pages.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn, CheckInStatus, EscalationLevel
from tests.factories import (
    MUSCLE_SPASM,
    CheckInAnswerFactory,
    CheckInFactory,
    ClientFactory,
    EscalationFactory,
    IntakeFactory,
    ScreeningFactory,
    UserFactory,
    VisitFactory,
)

FEW, MANY = 3, 30
# A generous ceiling as well, so a page that starts with many queries is noticed too.
MAX_QUERIES = 30


def _today_at(hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour)))


def _checkins(visit, statuses: list[str]) -> list[CheckIn]:
    """Give the visit one sent check-in per status, a day apart; answered ones get an answer."""
    made = []
    for position, status in enumerate(statuses):
        hours = 24 * (position + 1)
        checkin = CheckInFactory(
            visit=visit,
            policy_hours=hours,
            sent=True,
            sent_at=visit.completed_at + dt.timedelta(hours=hours),
            status=status,
            attempts=1,
        )
        if status == CheckInStatus.ANSWERED:
            CheckInAnswerFactory(checkin=checkin, score=6, character="sharp")
        made.append(checkin)
    return made


def _completed_visit(therapist, client=None, *, when=None):
    when = when or timezone.now() - dt.timedelta(days=5)
    kwargs = {"client": client} if client is not None else {}
    visit = VisitFactory(
        therapist=therapist,
        scheduled_at=when,
        status="completed",
        performed_modality="swedish",
        completed_at=when + dt.timedelta(hours=1),
        completed_by=therapist,
        intake__conditions=[MUSCLE_SPASM],
        **kwargs,
    )
    ScreeningFactory(visit=visit)
    return visit


def add_today_visits(n: int, *, therapist, client=None) -> None:
    for i in range(n):
        visit = VisitFactory(
            therapist=therapist,
            scheduled_at=_today_at(9) + dt.timedelta(minutes=i),
            intake__conditions=[MUSCLE_SPASM],
        )
        ScreeningFactory(visit=visit)


def add_client_history(n: int, *, therapist, client) -> None:
    """Give one client n more intakes and n more completed visits with check-ins."""
    for _ in range(n):
        IntakeFactory(client=client, entered_by=therapist)
        visit = _completed_visit(therapist, client)
        _checkins(visit, [CheckInStatus.ANSWERED, CheckInStatus.EXPIRED, CheckInStatus.SENT])


def add_clients(n: int, *, therapist, client=None) -> None:
    for _ in range(n):
        IntakeFactory(client=ClientFactory(), entered_by=therapist)


def add_escalations(n: int, *, therapist, client=None) -> None:
    for i in range(n):
        visit = _completed_visit(therapist)
        [answered] = _checkins(visit, [CheckInStatus.ANSWERED])
        EscalationFactory(
            checkin=answered,
            level=EscalationLevel.URGENT if i % 2 else EscalationLevel.REVIEW,
            reasons=[{"rule": "R2", "hours": 24}],
        )


def add_no_response(n: int, *, therapist, client=None) -> None:
    for _ in range(n):
        visit = _completed_visit(therapist)
        _checkins(visit, [CheckInStatus.EXPIRED] * 3)


def add_everything(n: int, *, therapist, client=None) -> None:
    """Rows for the admin changelists: clients, intakes, visits, screenings, check-ins."""
    add_escalations(n, therapist=therapist)
    add_no_response(n, therapist=therapist)


# (id, who, url name, url argument, query string, row builder)
PAGES = [
    ("day list", "therapist", "intake:today", None, "", add_today_visits),
    ("day list, all therapists", "therapist", "intake:today", None, "?all=1", add_today_visits),
    ("week list", "therapist", "intake:today", None, "?week=1&all=1", add_today_visits),
    ("client page", "therapist", "intake:client_detail", "client", "", add_client_history),
    ("client list", "therapist", "intake:client_list", None, "", add_clients),
    (
        "escalation queue (therapist)",
        "therapist",
        "followup:escalation_queue",
        None,
        "",
        add_escalations,
    ),
    (
        "escalation queue (front desk)",
        "front_desk",
        "followup:escalation_queue",
        None,
        "",
        add_escalations,
    ),
    ("no-response list", "front_desk", "followup:no_response", None, "", add_no_response),
    (
        "admin clients (front desk)",
        "front_desk",
        "admin:intake_client_changelist",
        None,
        "",
        add_everything,
    ),
    ("admin clients", "owner", "admin:intake_client_changelist", None, "", add_everything),
    (
        "admin visits (front desk)",
        "front_desk",
        "admin:intake_visit_changelist",
        None,
        "",
        add_everything,
    ),
    ("admin visits", "owner", "admin:intake_visit_changelist", None, "", add_everything),
    ("admin intakes", "owner", "admin:intake_intake_changelist", None, "", add_everything),
    ("admin screenings", "owner", "admin:screening_screening_changelist", None, "", add_everything),
    ("admin check-ins", "owner", "admin:followup_checkin_changelist", None, "", add_everything),
    (
        "admin check-ins (front desk)",
        "front_desk",
        "admin:followup_checkin_changelist",
        None,
        "",
        add_everything,
    ),
    (
        "admin escalations",
        "owner",
        "admin:followup_escalation_changelist",
        None,
        "",
        add_everything,
    ),
]


# The exact number of statements each page issues with MANY rows (the same as with FEW).
# Every staff page starts with the session and the user, and ends with the session's save
# (SAVEPOINT, UPDATE, RELEASE under the test runner: the idle expiry moves on). The user's
# groups, for the role, come from the cache after the warming load (staff.role_cache): no
# query. "count" is a paginator's COUNT(*).
EXACT_QUERIES = {
    # session, user, visits with decisions, session save x3
    "day list": 6,
    "day list, all therapists": 6,
    # session, user, visits with decisions and form status, session save x3
    "week list": 6,
    # session, user, client, read-log row, intakes, clearances, visits with decisions and
    # follow-up, session save x3
    "client page": 10,
    # session, user, count, clients, session save x3
    "client list": 7,
    # session, user, count, escalations, read-log rows, the clients' notes, session save x3
    "escalation queue (therapist)": 9,
    # session, user, count, escalations, session save x3
    "escalation queue (front desk)": 7,
    # session, user, count, to call, called, session save x3
    "no-response list": 8,
    # session, user, user and group permissions, count x2 (filtered and total), clients,
    # date hierarchy x2, session save x3
    "admin clients (front desk)": 12,
    # session, user, count x2, clients, date hierarchy x2, session save x3
    "admin clients": 10,
    # session, user, permissions x2, therapist choices, count x2, visits, date hierarchy x2,
    # session save x3 (the modality filter's choices are the vocabulary's)
    "admin visits (front desk)": 13,
    # session, user, therapist choices, count x2, visits, their clients, read-log rows, date
    # hierarchy x2, session save x3 (the modality filter's choices are the vocabulary's)
    "admin visits": 13,
    # session, user, count x2, intakes, their clients, read-log rows, date hierarchy x2,
    # session save x3
    "admin intakes": 12,
    # session, user, count x2, screenings, their clients, read-log rows, date hierarchy x2,
    # catalogue filter, session save x3
    "admin screenings": 13,
    # session, user, count x2, check-ins, their visits, their clients, date hierarchy x2,
    # session save x3 (the check-in filter's choices come from the configured offsets)
    "admin check-ins": 12,
    # session, user, permissions x2, count x2, check-ins, visits, clients, date hierarchy
    # x2, session save x3 (the check-in filter's choices come from the configured offsets)
    "admin check-ins (front desk)": 14,
    # session, user, count x2, escalations, their clients, read-log rows, date hierarchy x2,
    # session save x3
    "admin escalations": 12,
}


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200, f"GET {url}: HTTP {response.status_code}"
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    ("label", "who", "name", "arg", "query", "add_rows"),
    [pytest.param(*page, id=page[0]) for page in PAGES],
)
def test_page_queries_do_not_grow_with_rows(
    client, therapist, front_desk, label, who, name, arg, query, add_rows, django_assert_num_queries
):
    owner = UserFactory(username="owner", is_superuser=True)
    user = {"therapist": therapist, "front_desk": front_desk, "owner": owner}[who]
    client.force_login(user)
    regular = ClientFactory()
    IntakeFactory(client=regular, entered_by=therapist)
    url = reverse(name, args=[regular.pk] if arg == "client" else None) + query

    add_rows(FEW, therapist=therapist, client=regular)
    client.get(url)  # warm caches (content types, permissions) so both loads compare
    few = _queries(client, url)
    add_rows(MANY - FEW, therapist=therapist, client=regular)

    assert few <= MAX_QUERIES
    with django_assert_num_queries(EXACT_QUERIES[label]):
        response = client.get(url)
    assert response.status_code == 200
    assert few == EXACT_QUERIES[label]
