from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinical.intake import IntakeError, parse_intake
from followup.models import CheckIn
from intake.models import Intake, Visit, VisitStatus
from intake.services import (
    VisitError,
    check_intake_for_record,
    intake_record,
    signature_matches,
    visit_cancel,
    visit_change_plan,
    visit_complete,
    visit_defer,
    visit_schedule,
)
from screening.models import Decision, Screening
from tests.factories import ClientFactory, IntakeFactory, VisitFactory

pytestmark = pytest.mark.django_db


def _data(client, **fields):
    payload = {
        "date_of_birth": client.date_of_birth.isoformat(),
        "visit_date": timezone.localdate().isoformat(),
        "planned_modality": "swedish",
        "current_pain": {"score": 5, "regions": ["neck"], "character": "dull"},
        **fields,
    }
    return parse_intake(payload)


@pytest.mark.parametrize(
    "typed", ["Zoë Brontë", "  zoë   BRONTË ", "ZOË BRONTË"], ids=["exact", "spacing", "case"]
)
def test_signature_matches_the_clients_name_loosely(typed):
    assert signature_matches(typed, ClientFactory(first_name="Zoë", last_name="Brontë"))


@pytest.mark.parametrize("typed", ["", "Zoe Bronte", "Zoë", "Someone Else"])
def test_signature_must_be_the_clients_full_name(typed):
    assert not signature_matches(typed, ClientFactory(first_name="Zoë", last_name="Brontë"))


def _record(client, by, *, ip=None, **options):
    """Record an intake for `client`, signed with their name."""
    return intake_record(
        client=client, data=_data(client), by=by, ip=ip, signature_name=client.full_name, **options
    )


def test_recording_an_intake_links_the_previous_one(therapist):
    client = ClientFactory()
    first = _record(client, therapist, ip="10.0.0.5")
    second = _record(client, therapist)
    assert first.previous is None
    assert second.previous == first
    assert first.entered_from == "10.0.0.5"
    assert second.entered_by == therapist
    assert client.latest_intake() == second


def test_a_new_intake_moves_scheduled_visits_onto_it_and_rescreens(therapist):
    visit = VisitFactory(therapist=therapist)
    done = VisitFactory(
        client=visit.client,
        intake=visit.intake,
        therapist=therapist,
        status=VisitStatus.CANCELLED,
        status_reason="client ill",
    )
    data = _data(visit.client, conditions=[{"code": "thrombosis"}])
    intake = intake_record(
        client=visit.client,
        data=data,
        by=therapist,
        ip=None,
        signature_name=visit.client.full_name,
    )
    visit.refresh_from_db()
    done.refresh_from_db()
    assert visit.intake == intake
    assert done.intake != intake
    assert visit.current_screening().decision == Decision.CONTRAINDICATED
    assert not Screening.objects.filter(visit=done).exists()


def test_recording_refuses_a_signature_that_is_not_the_clients_name(therapist):
    client = ClientFactory()
    with pytest.raises(ValueError):
        intake_record(
            client=client, data=_data(client), by=therapist, ip=None, signature_name="Nobody"
        )
    assert Intake.objects.count() == 0


def test_a_due_date_before_the_visit_is_refused_for_a_pregnant_client():
    client = ClientFactory()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    data = _data(client, pregnancy={"pregnant": True, "due_date": yesterday})
    with pytest.raises(IntakeError) as caught:
        check_intake_for_record(data)
    assert caught.value.path == "pregnancy.due_date"


def test_scheduling_uses_the_latest_intake_and_screens_the_plan(therapist):
    client = ClientFactory()
    IntakeFactory(client=client)
    latest = IntakeFactory(client=client)
    visit = visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=timezone.now(),
        planned_modality="Deep tissue",
        focus_regions=["lower back", "neck", "neck"],
        by=therapist,
    )
    assert visit.intake == latest
    assert visit.planned_modality == "deep_tissue"
    assert visit.focus_regions == ["lumbar", "neck"]
    assert visit.screenings.count() == 1


def test_scheduling_without_an_intake_stores_no_screening(therapist):
    visit = visit_schedule(
        client=ClientFactory(),
        therapist=therapist,
        scheduled_at=timezone.now(),
        planned_modality="swedish",
        focus_regions=[],
        by=therapist,
    )
    assert visit.intake is None
    assert not visit.screenings.exists()


def test_scheduling_refuses_an_unknown_modality(therapist):
    with pytest.raises(VisitError):
        visit_schedule(
            client=ClientFactory(),
            therapist=therapist,
            scheduled_at=timezone.now(),
            planned_modality="hot stones",
            focus_regions=[],
            by=therapist,
        )
    assert Visit.objects.count() == 0


def test_changing_the_plan_screens_again(therapist):
    visit = visit_schedule(
        client=IntakeFactory().client,
        therapist=therapist,
        scheduled_at=timezone.now(),
        planned_modality="swedish",
        focus_regions=["neck"],
        by=therapist,
    )
    visit_change_plan(
        visit=visit,
        by=therapist,
        scheduled_at=visit.scheduled_at,
        planned_modality="thai",
        focus_regions=["legs"],
    )
    visit.refresh_from_db()
    assert visit.planned_modality == "thai"
    assert visit.current_screening().planned_modality == "thai"
    assert visit.screenings.count() == 2


def test_completing_sets_baseline_pain_and_schedules_checkins(therapist):
    visit = VisitFactory(therapist=therapist, baseline_pain=None, intake__pain_score=6)
    from screening.services import screen_visit

    screen_visit(visit=visit)
    visit_complete(visit=visit, by=therapist, modality="classical")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.performed_modality == "swedish"
    assert visit.baseline_pain == 6
    assert visit.completed_by == therapist
    assert visit.completed_at is not None
    assert CheckIn.objects.filter(visit=visit).count() == 3


def test_completing_without_current_pain_uses_a_baseline_of_zero(therapist):
    visit = VisitFactory(
        therapist=therapist,
        baseline_pain=None,
        intake__pain_score=None,
        intake__pain_character="",
        intake__pain_regions=[],
    )
    from screening.services import screen_visit

    screen_visit(visit=visit)
    visit_complete(visit=visit, by=therapist, modality="swedish")
    visit.refresh_from_db()
    assert visit.baseline_pain == 0


def test_a_contraindicated_visit_cannot_be_completed_and_nothing_is_stored(therapist):
    client = ClientFactory()
    intake = IntakeFactory(client=client, conditions=[{"code": "thrombosis", "acute": False}])
    visit = visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=timezone.now(),
        planned_modality="swedish",
        focus_regions=[],
        by=therapist,
    )
    assert visit.intake == intake
    with pytest.raises(VisitError) as caught:
        visit_complete(visit=visit, by=therapist, modality="swedish")
    assert "contraindicated" in caught.value.problems[0]
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED
    assert visit.completed_at is None
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("status", [VisitStatus.COMPLETED, VisitStatus.CANCELLED])
def test_only_a_scheduled_visit_can_be_completed_deferred_or_cancelled(therapist, status):
    visit = VisitFactory(
        therapist=therapist,
        status=status,
        status_reason="x",
        performed_modality="swedish",
        completed_at=timezone.now(),
    )
    for action in (
        lambda: visit_complete(visit=visit, by=therapist, modality="swedish"),
        lambda: visit_defer(visit=visit, by=therapist, reason="later"),
        lambda: visit_cancel(visit=visit, by=therapist, reason="no"),
    ):
        with pytest.raises(VisitError):
            action()
    visit.refresh_from_db()
    assert visit.status == status


def test_deferring_and_cancelling_record_the_reason(therapist):
    deferred = visit_defer(visit=VisitFactory(), by=therapist, reason="  flu, re-book  ")
    cancelled = visit_cancel(visit=VisitFactory(), by=therapist, reason="moved away")
    assert (deferred.status, deferred.status_reason) == (VisitStatus.DEFERRED, "flu, re-book")
    assert (cancelled.status, cancelled.status_reason) == (VisitStatus.CANCELLED, "moved away")
    assert deferred.history.first().history_user == therapist


@pytest.mark.parametrize("reason", ["", "   "])
def test_deferring_needs_a_reason(therapist, reason):
    visit = VisitFactory()
    with pytest.raises(VisitError):
        visit_defer(visit=visit, by=therapist, reason=reason)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_two_intakes_recorded_at_once_still_form_one_chain(therapist):
    """The second intake waits for the client's lock; its `previous`, read by its INSERT
    after the lock is granted, is the first one (not the one both saw before)."""
    from django.db import transaction

    from intake.models import Client
    from tests.services import require_postgres
    from tests.support.concurrency import second_waits_for_first

    require_postgres()  # SQLite locks the whole database: no two writers to interleave
    client = ClientFactory()
    original = IntakeFactory(client=client)
    recorded = {}

    def first(held):
        with transaction.atomic():
            locked = Client.objects.select_for_update().get(pk=client.pk)
            held()
            recorded["first"] = _record(locked, therapist, client_locked=True)

    def second():
        recorded["second"] = _record(client, therapist)

    second_waits_for_first(first, second)

    assert set(recorded) == {"first", "second"}
    assert recorded["first"].previous_id == original.pk
    assert recorded["second"].previous_id == recorded["first"].pk
    stored = {i.pk: i.previous_id for i in Intake.objects.filter(client=client)}
    assert stored == {
        original.pk: None,
        recorded["first"].pk: original.pk,
        recorded["second"].pk: recorded["first"].pk,
    }
