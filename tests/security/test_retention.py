"""Retention: `purge_followups --older-than DAYS` removes old answers and link tokens and keeps
the escalations' audit trail (who, when, notes, reasons)."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client as WebClient
from django.urls import reverse

from followup.answers import record_answer
from followup.escalations import acknowledge_escalation, resolve_escalation
from followup.models import CheckIn, CheckInAnswer, Escalation
from tests.factories import CheckInFactory, VisitFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)
DAYS = datetime.timedelta(days=1)


def _visit_with_answer(therapist, completed_at, note):
    visit = VisitFactory(
        therapist=therapist,
        status="completed",
        completed_at=completed_at,
        performed_modality="swedish",
        baseline_pain=2,
    )
    checkin = CheckInFactory(visit=visit, sent=True, sent_at=completed_at + DAYS)
    token = checkin.token
    with time_machine.travel(completed_at + DAYS + datetime.timedelta(hours=1), tick=False):
        outcome = record_answer(
            checkin=checkin, score=9, character="sharp", radiating=True,
            red_flags=["numbness"], note=note,
        )  # fmt: skip
    return visit, checkin, token, outcome.escalation


def test_purge_removes_old_answers_and_links_and_keeps_the_escalation_trail(therapist):
    old_visit, old_checkin, old_token, old_escalation = _visit_with_answer(
        therapist, NOW - 400 * DAYS, "old note about my back"
    )
    new_visit, new_checkin, new_token, _ = _visit_with_answer(
        therapist, NOW - 10 * DAYS, "recent note"
    )
    with time_machine.travel(NOW - 399 * DAYS, tick=False):
        acknowledge_escalation(escalation=old_escalation, by=therapist, note="called her")
        resolve_escalation(escalation=old_escalation, by=therapist, note="GP seen, fine")
    old_escalation.refresh_from_db()
    trail = {
        field: getattr(old_escalation, field)
        for field in (
            "level",
            "reasons",
            "opened_at",
            "status",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "checkin_id",
            "visit_id",
        )  # fmt: skip
    }

    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("purge_followups", "--older-than", "365", stdout=out)

    assert "1 answer" in out.getvalue()
    assert not CheckInAnswer.objects.filter(checkin=old_checkin).exists()
    old_checkin.refresh_from_db()
    assert old_checkin.token_hash is None  # the old link is dead
    assert CheckIn.objects.filter(pk=old_checkin.pk).exists()  # the row stays for the trail
    kept = Escalation.objects.get(pk=old_escalation.pk)
    assert {field: getattr(kept, field) for field in trail} == trail
    assert kept.acknowledged_by == therapist and kept.resolution_note == "GP seen, fine"

    # Recent follow-ups are untouched.
    assert CheckInAnswer.objects.get(checkin=new_checkin).note == "recent note"
    new_checkin.refresh_from_db()
    assert new_checkin.token_hash is not None

    # The purged link gets the plain "unusable" page, for answers and opt-out alike.
    web = WebClient()
    assert web.get(reverse("followup:answer", args=[old_token])).status_code == 404
    assert web.get(reverse("followup:opt_out", args=[old_token])).status_code == 404


def test_purging_twice_is_harmless(therapist):
    _visit_with_answer(therapist, NOW - 400 * DAYS, "old")
    with time_machine.travel(NOW, tick=False):
        call_command("purge_followups", "--older-than", "365", stdout=io.StringIO())
        out = io.StringIO()
        call_command("purge_followups", "--older-than", "365", stdout=out)
    assert "Deleted 0 answer(s) and cleared 0 link(s)" in out.getvalue()


@pytest.mark.parametrize("days", ["0", "-5"])
def test_a_nonsense_age_is_refused(days):
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_followups", "--older-than", days, stdout=io.StringIO())


def test_a_non_number_age_is_refused_by_the_parser():
    with pytest.raises(CommandError):
        call_command("purge_followups", "--older-than", "soon", stdout=io.StringIO())
