"""The change-history tables: indexed for how history is read, and still read that way.

Every history row is written with each change of a record, so each index on a history table
is work on every write of the hot paths. History is read one record at a time (its rows by
the record's id, newest first): that index stays, with simple-history's own (the row's key,
its date, its user). The tables are introspected as migrated, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from simple_history.models import HistoricalChanges

from tests.factories import UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

READ_BY = {("history_id",), ("id",), ("history_date",), ("history_user_id",)}


def _history_models():
    models = [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]
    # client, intake, visit, screening, flag, clearance, vocabulary term
    assert len(models) >= 7
    return models


@pytest.mark.parametrize("history_model", _history_models(), ids=lambda m: m._meta.db_table)
def test_a_history_table_indexes_only_what_history_is_read_by(history_model):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, history_model._meta.db_table)
    indexed = {
        tuple(info["columns"])
        for info in constraints.values()
        if info["index"] or info["primary_key"] or info["unique"]
    }
    assert indexed == READ_BY, history_model._meta.db_table


def test_a_records_history_is_still_read_newest_first_by_its_id():
    visit = VisitFactory()
    other = VisitFactory()
    user = UserFactory()
    for note in ("first", "second"):
        visit.status_reason = note
        visit._history_user = user
        visit.save()
    other.save()
    rows = list(visit.history.all())
    assert [r.status_reason for r in rows][:2] == ["second", "first"]
    assert {r.id for r in rows} == {visit.pk}
    assert rows[0].history_user == user
