from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from followup.answers import record_answer
from followup.models import CheckIn, CheckInAnswer, Escalation
from tests.factories import CheckInFactory
from tests.followup.conftest import NOW, make_visit

pytestmark = pytest.mark.django_db

DAYS = datetime.timedelta(days=1)


def answered(visit, **answer):
    checkin = CheckInFactory(visit=visit, sent=True)  # sent now, whatever the visit's age
    record_answer(checkin=checkin, character="sharp", radiating=False, red_flags=[], **answer)
    return checkin


def test_purge_deletes_old_answers_and_links_but_keeps_checkins_and_escalations(frozen):
    old = make_visit(completed_at=NOW - 400 * DAYS)
    old_checkin = answered(old, score=8, note="private note")
    recent = make_visit(completed_at=NOW - 10 * DAYS)
    recent_checkin = answered(recent, score=2)
    escalation = Escalation.objects.get(visit=old)
    Escalation.objects.filter(pk=escalation.pk).update(resolution_note="called, fine")
    out = io.StringIO()

    call_command("purge_followups", "--older-than", "365", stdout=out)

    old_checkin.refresh_from_db()
    assert not CheckInAnswer.objects.filter(checkin=old_checkin).exists()
    assert old_checkin.token_hash is None
    assert CheckIn.objects.filter(pk=old_checkin.pk).exists()
    escalation.refresh_from_db()
    assert (escalation.level, escalation.reasons, escalation.resolution_note) == (
        "urgent",
        [{"rule": "U3", "hours": 24}, {"rule": "R2", "hours": 24}],
        "called, fine",
    )
    assert CheckInAnswer.objects.filter(checkin=recent_checkin).exists()
    assert "Deleted 1 answer(s) and cleared 1 link(s)" in out.getvalue()


def test_purge_uses_the_retention_setting_by_default(frozen, settings):
    settings.FOLLOWUP_RETENTION_DAYS = 5
    visit = make_visit(completed_at=NOW - 10 * DAYS)
    answered(visit, score=1)

    call_command("purge_followups", stdout=io.StringIO())

    assert not CheckInAnswer.objects.exists()
