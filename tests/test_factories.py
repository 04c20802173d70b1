"""The factories build rows as the product would: a real screening, links that work, an
escalation that the policy agrees with."""

from __future__ import annotations

import pytest

from followup.answers import evaluate_visit, find_checkin
from followup.models import CheckIn, CheckInStatus
from tests.factories import (
    CheckInAnswerFactory,
    CheckInFactory,
    EscalationFactory,
    ScreeningFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def test_a_screening_is_the_engines_result_for_the_visits_intake():
    screening = ScreeningFactory()

    assert screening.decision == "modify"
    assert [flag.code for flag in screening.flags.all()] == ["muscle_spasm"]
    assert screening.result["decision"] == screening.decision
    assert [f["code"] for f in screening.result["flags"]] == ["muscle_spasm"]
    assert ScreeningFactory(visit=screening.visit) == screening  # nothing changed: the same one


def test_a_screening_follows_the_intake_and_refuses_hand_written_fields():
    visit = VisitFactory(intake__conditions=[{"code": "thrombosis", "acute": False, "notes": ""}])

    assert ScreeningFactory(visit=visit).decision == "contraindicated"
    with pytest.raises(TypeError):
        ScreeningFactory(visit=visit, decision="clear")
    with pytest.raises(TypeError):
        ScreeningFactory.build(visit=visit)


def test_a_sent_checkin_has_a_working_link_of_which_only_the_hash_is_stored():
    checkin = CheckInFactory(sent=True)

    assert find_checkin(checkin.token) == checkin
    assert checkin.is_answerable()
    assert checkin.token not in str(CheckIn.objects.filter(pk=checkin.pk).values().get())
    assert CheckInFactory().token_hash is None  # scheduled: no link yet


def test_an_answer_marks_its_checkin_answered():
    answer = CheckInAnswerFactory()

    answer.checkin.refresh_from_db()
    assert answer.checkin.status == CheckInStatus.ANSWERED


def test_an_escalation_is_what_the_policy_says_of_its_answer():
    escalation = EscalationFactory()

    result = evaluate_visit(escalation.visit)
    assert escalation.level == result.level
    assert escalation.reasons == [reason.to_dict() for reason in result.reasons]
