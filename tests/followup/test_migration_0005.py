"""Migration followup 0005 folds a visit's unresolved escalations into one before its
one-unresolved-per-visit constraint, on data written by the schema before it."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from followup.models import Escalation
from tests.factories import CheckInFactory, VisitFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("followup", "0004_checkin_link_secret_send_key")
AFTER = ("followup", "0005_escalation_per_visit_and_reminders")


def _migrate(nodes) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(nodes)
    return MigrationExecutor(connection)  # the applied set re-read


def _state_before(executor):
    # Every other app at its latest migration, follow-up just before 0005.
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] != "followup"]
    return executor.loader.project_state([BEFORE, *others]).apps


@pytest.fixture
def back_to_0004():
    """Return a function that takes follow-up back to 0004 and returns that state's apps;
    the latest migrations are applied again afterwards."""
    yield lambda: _state_before(_migrate([BEFORE]))
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_a_visits_unresolved_escalations_are_folded_into_its_highest(back_to_0004):
    # Visits and check-ins written with today's schema, escalations with 0004's.
    done = {
        "status": "completed",
        "completed_at": timezone.now() - datetime.timedelta(days=3),
        "performed_modality": "swedish",
    }
    visit, other = VisitFactory(**done), VisitFactory(**done)
    checkins = [CheckInFactory(visit=visit, policy_hours=h) for h in (24, 48, 72)]
    lone = CheckInFactory(visit=other, policy_hours=24)
    old_apps = back_to_0004()
    OldEscalation = old_apps.get_model("followup", "Escalation")  # noqa: N806 (a model class)
    start = timezone.now() - datetime.timedelta(days=2)

    def old(checkin, level, status, hours, reasons):
        return OldEscalation.objects.create(
            visit_id=checkin.visit_id,
            checkin_id=checkin.pk,
            level=level,
            status=status,
            reasons=reasons,
            opened_at=start + datetime.timedelta(hours=hours),
        )

    review = old(checkins[0], "review", "acknowledged", 0, ["pain up by 2"])
    urgent = old(checkins[1], "urgent", "open", 24, ["pain up by 4"])
    single = old(lone, "review", "open", 1, ["no better"])

    _migrate([AFTER])

    review, urgent, single = (Escalation.objects.get(pk=e.pk) for e in (review, urgent, single))
    assert urgent.status == "open"
    assert [s["level"] for s in urgent.level_history] == ["review", "urgent"]
    assert [s["reasons"] for s in urgent.level_history] == [["pain up by 2"], ["pain up by 4"]]
    assert [s["checkin"] for s in urgent.level_history] == [checkins[0].pk, checkins[1].pk]
    assert review.status == "resolved"
    assert review.resolved_at == urgent.opened_at
    assert review.resolution_note == f"Raised to urgent (escalation #{urgent.pk})."
    # Alone on its visit: kept as it was, its level its first step.
    assert single.status == "open"
    assert [s["level"] for s in single.level_history] == ["review"]
    assert Escalation.objects.filter(status__in=["open", "acknowledged"]).count() == 2
