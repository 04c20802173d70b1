"""A client's latest intake is one index entry, however many intakes they have: the query of
Client.latest_intake() and the `previous` read by every new intake's INSERT use the index
intake_client_latest (PostgreSQL's plan, read with sequential scans off, as on a large table)."""

from __future__ import annotations

import pytest
from django.db import connection

from intake.services import _latest_intake_sql
from tests.factories import ClientFactory, IntakeFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_latest_intake_is_read_from_the_clients_index():
    require_postgres()
    person = ClientFactory()
    for _ in range(3):
        IntakeFactory(client=person)
    latest = person.intakes.order_by("-created_at", "-id")[:1]
    sql, params = latest.query.sql_with_params()

    for plan in (_plan(sql, params), _plan(_latest_intake_sql(), [person.pk])):
        assert "intake_client_latest" in plan, plan
        assert "Sort" not in plan, plan  # read in order from the index, not sorted
    assert person.latest_intake() == person.intakes.order_by("-created_at", "-id").first()
