"""statements.rows: the hot paths' hand-built statements store and read what the ORM would.

Each test does one thing both ways, through the ORM (save(), get(), django-simple-history)
and through statements.rows, and compares every column of what was stored or read. They run
on the database the suite runs on (PostgreSQL in CI, SQLite in the embedded mode).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn, CheckInAnswer
from intake.models import Client, Intake, Visit
from messaging import links
from screening.models import Screening, ScreeningFlag
from statements import rows as statements
from tests.factories import (
    CheckInFactory,
    ClientFactory,
    IntakeFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

# Columns that differ between two rows stored one after the other, whatever stores them.
OWN = {"id", "created_at", "updated_at", "history_id", "history_date"}


def values(obj) -> dict:
    """Every column of a row (a model's or a history row), but those that differ anyway."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in OWN
    }


def columns(obj) -> dict:
    """Every column of a stored row as read back from the database (not from the object)."""
    return values(type(obj).objects.get(pk=obj.pk))


def _screening(visit) -> Screening:
    return Screening.objects.create(
        visit=visit,
        intake=visit.intake,
        catalogue_version="v",
        decision="modify",
        effective_decision="modify",
        planned_modality="swedish",
        visit_date=dt.date(2026, 1, 5),
        result={},
    )


def test_an_inserted_intake_stores_every_column_as_save_does():
    person = ClientFactory()
    template = IntakeFactory(
        client=person, conditions=[{"code": "muscle_spasm", "acute": False, "notes": ""}]
    )
    stored = values(template)
    saved = Intake(**stored)
    saved.save()
    inserted = Intake(**stored)
    statements.insert(inserted)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding
    assert columns(inserted) == columns(saved)
    # JSON lists and dates come back as the same Python values, not as strings.
    assert columns(inserted)["conditions"] == template.conditions
    assert isinstance(Intake.objects.get(pk=inserted.pk).visit_date, dt.date)


def test_an_inserted_row_takes_its_auto_now_add_time():
    checkin = CheckInFactory()
    before = timezone.now()
    answer = CheckInAnswer(checkin=checkin, score=3, character="dull", radiating=False)
    statements.insert(answer)

    stored = CheckInAnswer.objects.get(pk=answer.pk)
    assert stored.answered_at >= before - dt.timedelta(seconds=1)
    assert stored.red_flags == []  # the field's default, stored as JSON


def test_several_rows_are_inserted_in_one_statement_each_with_its_key():
    visit = VisitFactory()
    screening = _screening(visit)
    flags = [
        ScreeningFlag(screening=screening, code=code, severity="modify", title=code, tier="seed")
        for code in ("a", "b", "c")
    ]
    statements.insert(*flags)

    assert [f.pk for f in flags] == sorted(f.pk for f in flags)
    stored = {f.pk: f.code for f in ScreeningFlag.objects.filter(screening=screening)}
    assert stored == {f.pk: f.code for f in flags}


def test_insert_refuses_a_stored_row_or_mixed_models():
    person = ClientFactory()
    with pytest.raises(ValueError):
        statements.insert(person)
    with pytest.raises(ValueError):
        statements.insert(Client(first_name="A", last_name="B"), Visit())


def test_a_row_read_is_the_row_the_orm_reads():
    checkin = CheckInFactory(sent=True)
    read = statements.select_one(CheckIn, token_hash=checkin.token_hash)

    assert read is not None and read.pk == checkin.pk
    orm = CheckIn.objects.get(pk=checkin.pk)
    for field in CheckIn._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
    assert read._state.adding is False


def test_fields_not_read_are_deferred_as_with_only():
    visit = VisitFactory(baseline_pain=4)
    read = statements.select_one(Visit, fields=["baseline_pain"], id=visit.pk)

    assert read.baseline_pain == 4
    assert read.get_deferred_fields() >= {"scheduled_at", "planned_modality", "status"}


def test_no_row_and_an_id_no_column_can_hold_read_nothing():
    assert statements.select_one(CheckIn, token_hash="0" * 64) is None
    assert statements.select_one(Client, id=10**30) is None
    assert statements.select(Visit, client_id=-(10**30)) == []


def test_a_crafted_client_id_is_a_404_on_the_intake_post(client, therapist):
    client.force_login(therapist)
    url = reverse("intake:intake_create", args=[10**30])
    assert client.post(url, {}).status_code == 404


def test_rows_read_with_a_lock_inside_a_transaction():
    person = ClientFactory()
    first, second = VisitFactory(client=person), VisitFactory(client=person)
    with transaction.atomic():
        locked = statements.select(Visit, lock=True, client_id=person.pk)
    assert [v.pk for v in locked] == sorted([first.pk, second.pk])


def test_update_writes_the_fields_named_and_moves_auto_now():
    visit = VisitFactory()
    before = Visit.objects.get(pk=visit.pk).updated_at
    visit.planned_modality = "deep_tissue"
    visit.status_reason = "not written"
    statements.update(visit, "planned_modality", "updated_at")

    stored = Visit.objects.get(pk=visit.pk)
    assert stored.planned_modality == "deep_tissue"
    assert stored.status_reason == ""  # not named, not written
    assert stored.updated_at > before


def test_a_changed_rows_history_is_the_row_simple_history_writes(history_way):
    """The same change recorded both ways leaves history rows equal in every column."""
    user = UserFactory()
    visit = VisitFactory()
    visit.planned_modality = "deep_tissue"
    visit._history_user = user
    visit.save(update_fields=["planned_modality", "updated_at"])
    by_orm = visit.history.latest()

    with transaction.atomic():
        statements.update_where(
            Visit,
            {"planned_modality": "deep_tissue", "updated_at": timezone.now()},
            history=statements.History(statements.CHANGED, user, timezone.now()),
            id=visit.pk,
        )
    copied = visit.history.latest()

    assert copied.history_id != by_orm.history_id
    assert values(copied) == values(by_orm)
    assert copied.history_type == "~" and copied.history_user_id == user.pk


def test_history_user_is_who_simple_history_would_name():
    user = UserFactory()
    visit = VisitFactory()
    assert statements.history_user(visit) is None  # no request, no _history_user
    visit._history_user = user
    assert statements.history_user(visit) == user


def test_an_intake_recorded_through_the_page_has_its_history(client, therapist):
    """The intake POST's rows and their history, as the ORM path stored them before."""
    from tests.intake.conftest import intake_post

    person = ClientFactory(first_name="Ana", last_name="Lopez")
    IntakeFactory(client=person, entered_by=therapist)
    visit = VisitFactory(client=person, therapist=therapist)
    client.force_login(therapist)
    response = client.post(reverse("intake:intake_create", args=[person.pk]), intake_post(person))
    assert response.status_code == 302

    intake = Intake.objects.filter(client=person).latest("id")
    (created,) = intake.history.all()
    assert created.history_type == "+" and created.history_user_id == therapist.pk
    assert model_to_dict(created, exclude=["history_id"])["conditions"] == intake.conditions
    visit.refresh_from_db()
    assert visit.intake_id == intake.pk
    moved = visit.history.latest()
    assert moved.history_type == "~" and moved.intake_id == intake.pk
    assert moved.history_user_id == therapist.pk
    screening = visit.screenings.latest("id")
    assert screening.intake_id == intake.pk
    (screened,) = screening.history.all()
    assert screened.history_user_id == therapist.pk  # the signed-in user, as the middleware
    flags = list(screening.flags.all())
    flag_history = ScreeningFlag.history.filter(screening_id=screening.pk)
    assert sorted(h.id for h in flag_history) == sorted(f.pk for f in flags)


def test_values_with_quotes_and_sql_are_matched_as_plain_values():
    """A value is always a parameter: a name with an apostrophe is found, an injection is not."""
    obrien = ClientFactory(first_name="Siobhan", last_name="O'Brien")
    ClientFactory(last_name="Other")

    assert [c.pk for c in statements.select(Client, last_name="O'Brien")] == [obrien.pk]
    assert statements.select(Client, last_name="x' OR '1'='1") == []
    assert statements.select(Client, last_name='x"; DROP TABLE intake_client; --') == []
    assert Client.objects.count() == 2


def test_a_crafted_link_token_finds_nothing_and_changes_nothing(client):
    checkin = CheckInFactory(sent=True)
    for token in ("' OR '1'='1", checkin.token_hash, "%", "x" * 101, ""):
        assert links.find_row(CheckIn, token) is None
        answer = {"score": "2", "character": "dull", "radiating": "no", "note": ""}
        page = client.post(reverse("followup:answer", args=[token or "x"]), answer)
        assert page.status_code == 404
    checkin.refresh_from_db()
    assert checkin.status == "sent" and not CheckInAnswer.objects.exists()


def test_the_statements_quote_names_for_the_database_in_use():
    sql = statements._insert_sql(CheckInAnswer, ("score",), 1, (), (), False, statements._q())
    assert connection.ops.quote_name(CheckInAnswer._meta.db_table) in sql


def _move_scheduled_visits(person, intake, history=None) -> list[Visit]:
    """Move the client's scheduled visits onto `intake`, as the intake POST does."""
    with transaction.atomic():
        return statements.update_where(
            Visit,
            {"intake_id": intake.pk, "updated_at": timezone.now()},
            history=history,
            client_id=person.pk,
            status="scheduled",
        )


def test_update_where_moves_the_matching_rows_and_returns_them_as_stored():
    person = ClientFactory()
    first, second = VisitFactory(client=person), VisitFactory(client=person)
    VisitFactory(client=person, status="cancelled", status_reason="ill")
    other = VisitFactory()
    intake = IntakeFactory(client=person)

    moved = _move_scheduled_visits(person, intake)

    assert [v.pk for v in moved] == sorted([first.pk, second.pk])
    for visit in moved:
        stored = Visit.objects.get(pk=visit.pk)
        assert visit.intake_id == stored.intake_id == intake.pk
        for field in Visit._meta.concrete_fields:
            assert getattr(visit, field.attname) == getattr(stored, field.attname), field.name
    assert Visit.objects.get(pk=other.pk).intake_id != intake.pk
    assert Visit.objects.filter(client=person, status="cancelled").get().intake_id != intake.pk


def test_update_where_without_returning_reads_then_updates(monkeypatch):
    """Where the database cannot return updated rows (SQLite before 3.35), same outcome."""
    person = ClientFactory()
    visit = VisitFactory(client=person)
    intake = IntakeFactory(client=person)
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    with transaction.atomic():
        (moved,) = statements.update_where(
            Visit,
            {"intake_id": intake.pk, "updated_at": timezone.now()},
            client_id=person.pk,
            status="scheduled",
        )
    assert moved.pk == visit.pk and Visit.objects.get(pk=visit.pk).intake_id == intake.pk


# ---- writes with their history (one statement on PostgreSQL, two on SQLite) ----------------


# Where the database has data-modifying WITHs (PostgreSQL, as in CI), both ways are tried.
HISTORY_WAYS = ["merged", "copied after"] if connection.vendor == "postgresql" else ["copied after"]


@pytest.fixture(params=HISTORY_WAYS)
def history_way(request, monkeypatch):
    """Each write with its history both ways the database may take: in one statement (a
    data-modifying WITH, PostgreSQL only) and copied by a second statement (SQLite)."""
    if request.param == "copied after":
        monkeypatch.setattr(statements, "merges_history", lambda: False)
    assert statements.merges_history() == (request.param == "merged")
    return request.param


def _statements_sent(fn) -> list[str]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


def test_an_insert_with_history_writes_the_row_simple_history_writes(history_way):
    user = UserFactory()
    visit = VisitFactory()
    by_orm = _screening(visit)  # saved by the ORM, history by django-simple-history
    (orm_history,) = by_orm.history.all()
    inserted = Screening(**{k: v for k, v in values(by_orm).items()})
    when = orm_history.history_date

    sent = _statements_sent(
        lambda: statements.insert(
            inserted, history=statements.History(statements.CREATED, user, when)
        )
    )

    assert len(sent) == (1 if history_way == "merged" else 2)
    assert inserted.pk is not None and inserted.pk != by_orm.pk
    assert columns(inserted) == columns(by_orm)
    (copied,) = inserted.history.all()
    assert values(copied) | {"history_user_id": None} == values(orm_history)
    assert copied.history_user_id == user.pk and copied.history_type == "+"
    assert copied.history_date == when


def test_many_rows_inserted_with_history_keep_their_own_keys(history_way):
    visit = VisitFactory()
    screening = _screening(visit)
    flags = [
        ScreeningFlag(screening=screening, code=code, severity="modify", title=code, tier="seed")
        for code in ("c", "a", "b", "d")
    ]
    history = statements.History(statements.CREATED, None, timezone.now())

    sent = _statements_sent(lambda: statements.insert(*flags, history=history))

    assert len(sent) == (1 if history_way == "merged" else 2)
    stored = {f.pk: f.code for f in ScreeningFlag.objects.filter(screening=screening)}
    assert stored == {f.pk: f.code for f in flags}  # each instance has its own row's key
    copied = ScreeningFlag.history.filter(screening_id=screening.pk)
    assert {h.id: h.code for h in copied} == stored
    assert {h.history_type for h in copied} == {"+"}


def test_a_computed_field_is_read_by_the_insert_and_set_on_the_row(history_way):
    from intake.services import _latest_intake_sql

    person = ClientFactory()
    template = values(IntakeFactory(client=person))
    latest = IntakeFactory(client=person)
    IntakeFactory()  # another client's, later: not this client's latest
    first_ever = ClientFactory()
    history = statements.History(statements.CREATED, None, timezone.now())

    for owner, expected in ((person, latest.pk), (first_ever, None)):
        intake = Intake(**(template | {"client_id": owner.pk, "previous_id": None}))
        statements.insert(
            intake, history=history, computed={"previous_id": (_latest_intake_sql(), [owner.pk])}
        )
        assert intake.previous_id == expected
        assert Intake.objects.get(pk=intake.pk).previous_id == expected
        assert intake.history.get().previous_id == expected


def test_a_computed_field_without_returning_is_read_first(monkeypatch):
    from intake.services import _latest_intake_sql

    person = ClientFactory()
    latest = IntakeFactory(client=person)
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    intake = Intake(**(values(latest) | {"previous_id": None}))
    statements.insert(intake, computed={"previous_id": (_latest_intake_sql(), [person.pk])})
    assert intake.previous_id == latest.pk
    # (The key comes from the driver's last row id, which PostgreSQL's does not give.)
    stored = Intake.objects.filter(client=person).latest("id")
    assert stored.pk != latest.pk and stored.previous_id == latest.pk


def test_insert_computes_fields_of_one_row_only():
    visit = VisitFactory()
    screening = _screening(visit)
    flags = [ScreeningFlag(screening=screening, code=c, severity="modify") for c in "ab"]
    with pytest.raises(ValueError):
        statements.insert(*flags, computed={"title": ("SELECT 'x'", [])})
    assert not ScreeningFlag.objects.exists()


def test_update_where_with_history_records_the_rows_as_moved(history_way):
    user = UserFactory()
    person = ClientFactory()
    first, second = VisitFactory(client=person), VisitFactory(client=person)
    untouched = VisitFactory(client=person, status="cancelled", status_reason="ill")
    intake = IntakeFactory(client=person)
    history = statements.History(statements.CHANGED, user, timezone.now())

    moved = _move_scheduled_visits(person, intake, history)

    assert [v.pk for v in moved] == sorted([first.pk, second.pk])
    for visit in moved:
        stored = Visit.objects.get(pk=visit.pk)
        assert values(visit) == values(stored)
        latest = stored.history.latest()
        assert latest.history_type == "~" and latest.history_user_id == user.pk
        as_moved = {k: v for k, v in values(latest).items() if not k.startswith("history_")}
        assert as_moved == values(stored)
    assert untouched.history.count() == 1  # created, never moved


def test_update_where_with_history_and_nothing_to_move_writes_nothing(history_way):
    person = ClientFactory()
    intake = IntakeFactory(client=person)
    history = statements.History(statements.CHANGED, None, timezone.now())
    moved = _move_scheduled_visits(person, intake, history)
    assert moved == [] and not Visit.history.exists()
