"""The completion rules of SPEC section 5, as a table, against the real engine."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from clinical import vocabulary
from intake.models import VisitStatus
from screening import actions, services
from tests.factories import ClearanceFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the cast's passwords quickly; the strength of the hasher is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


DAY = datetime.timedelta(days=1)

# What the client answered at intake, by the decision the engine gives it.
INTAKES = {
    "clear": {},
    "contraindicated": {"conditions": [{"code": "influenza", "acute": False, "notes": ""}]},
    "clearance": {"medications": ["warfarin 5 mg"]},
    "local": {"conditions": [{"code": "hip_injury", "acute": False, "notes": ""}]},
    "modify": {"conditions": [{"code": "osteoporosis", "acute": False, "notes": ""}]},
    "free_text_clearance": {"free_text": "I had a hernia last year"},
    "free_text_contraindicated": {"free_text": "I have cancer"},
    "review": {"conditions": [{"code": "epilepsy", "acute": False, "notes": ""}]},
}
REVIEW = "Resolve “epilepsy” (condition 1): the screener did not understand it."
ACK = "The therapist must acknowledge the screening"
CONTRA = "can only be deferred or cancelled"
CLEARANCE = "Physician clearance needed for “Taking blood thinners (anticoagulants)”:"
HERNIA_CLEARANCE = "Physician clearance needed for"


def _blocked(modality: str) -> str:
    return f"{vocabulary.label('modality', modality)} is blocked"


def _clearance(days_from_issue: int, days_to_expiry: int, codes=("blood_thinners",)) -> dict:
    today = timezone.localdate()
    return {
        "issued_on": today + days_from_issue * DAY,
        "expires_on": today + days_to_expiry * DAY,
        "codes": list(codes),
    }


CASES = [
    # (intake, clearance on file, acknowledged, dismiss the free-text flag, modality, problems)
    ("clear", None, False, False, "swedish", []),
    ("clear", None, False, False, "deep_tissue", []),
    ("contraindicated", None, False, False, "swedish", [CONTRA]),
    ("contraindicated", None, True, False, "relaxing", [CONTRA]),
    ("clearance", None, True, False, "swedish", [CLEARANCE]),
    ("clearance", _clearance(-7, 30), False, False, "swedish", [ACK]),
    ("clearance", _clearance(-7, 30), True, False, "swedish", []),
    ("clearance", _clearance(0, 0), True, False, "swedish", []),
    ("clearance", _clearance(-30, -1), True, False, "swedish", [CLEARANCE]),
    ("clearance", _clearance(1, 30), True, False, "swedish", [CLEARANCE]),
    ("clearance", _clearance(-7, 30, ["spinal_injury"]), True, False, "swedish", [CLEARANCE]),
    ("clearance", _clearance(-7, 30), True, False, "deep_tissue", [_blocked("deep_tissue")]),
    ("local", None, False, False, "swedish", [ACK]),
    ("local", None, True, False, "swedish", []),
    ("modify", None, False, False, "swedish", [ACK]),
    ("modify", None, True, False, "swedish", []),
    ("modify", None, True, False, "deep_tissue", [_blocked("deep_tissue")]),
    ("modify", None, True, False, "Deep tissue", [_blocked("deep_tissue")]),
    ("modify", None, True, False, "manual_therapy", [_blocked("manual_therapy")]),
    ("modify", None, False, False, "deep_tissue", [ACK, _blocked("deep_tissue")]),
    ("free_text_clearance", None, True, False, "swedish", [HERNIA_CLEARANCE]),
    ("free_text_clearance", None, False, True, "swedish", []),
    ("free_text_clearance", None, False, True, "thai", []),
    ("free_text_contraindicated", None, True, False, "swedish", [CONTRA]),
    ("free_text_contraindicated", None, False, True, "swedish", []),
    ("review", None, False, False, "swedish", [REVIEW, ACK]),
    ("review", None, True, False, "swedish", [REVIEW]),
]


@pytest.mark.parametrize(
    ("intake", "clearance", "acknowledged", "dismissed", "modality", "expected"), CASES
)
def test_completion_rules(
    therapist, intake, clearance, acknowledged, dismissed, modality, expected
):
    visit = VisitFactory(**{f"intake__{k}": v for k, v in INTAKES[intake].items()})
    screening = services.screen_visit(visit=visit)
    if clearance:
        ClearanceFactory(client=visit.client, **clearance)
    if dismissed:
        flag = screening.flags.get(free_text_only=True)
        actions.flag_dismiss(flag=flag, by=therapist, reason="not the client's own condition")
    if acknowledged:
        actions.screening_acknowledge(screening=screening, by=therapist, note="")

    problems = services.completion_problems(visit=visit, modality=modality)

    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert start in problem


def test_an_unscreened_visit_must_be_screened_first():
    visit = VisitFactory()

    assert services.completion_problems(visit=visit, modality="swedish") == [
        "The visit has not been screened yet: screen the intake first."
    ]


def test_a_screening_made_for_another_plan_must_be_redone(therapist):
    visit = VisitFactory(**{f"intake__{k}": v for k, v in INTAKES["modify"].items()})
    screening = services.screen_visit(visit=visit)
    actions.screening_acknowledge(screening=screening, by=therapist, note="")
    visit.planned_modality = "relaxing"
    visit.save()

    [problem] = services.completion_problems(visit=visit, modality="relaxing")

    assert "out of date" in problem


def test_an_unknown_performed_modality_is_refused():
    visit = VisitFactory()
    services.screen_visit(visit=visit)

    assert services.completion_problems(visit=visit, modality="reiki") == [
        "Unknown technique “reiki”."
    ]


def test_a_clearance_must_be_valid_on_the_visit_day_not_today():
    visit = VisitFactory(intake__medications=["warfarin"], scheduled_at=timezone.now() + 10 * DAY)
    screening = services.screen_visit(visit=visit)
    actions.screening_acknowledge(screening=screening, by=visit.therapist, note="")
    ClearanceFactory(client=visit.client, **_clearance(-7, 5))

    [problem] = services.completion_problems(visit=visit, modality="swedish")

    assert problem.startswith(CLEARANCE)


def test_intake_visit_complete_refuses_a_contraindicated_visit_and_defer_works(therapist):
    """The intake app's completion path asks these rules (end to end, nothing stored)."""
    from intake.services import VisitError, visit_complete, visit_defer

    visit = VisitFactory(
        **{f"intake__{k}": v for k, v in INTAKES["contraindicated"].items()}, therapist=therapist
    )
    services.screen_visit(visit=visit)

    with pytest.raises(VisitError):
        visit_complete(visit=visit, by=therapist, modality="swedish")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED

    visit_defer(visit=visit, by=therapist, reason="influenza; rebook after recovery")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DEFERRED


def test_intake_visit_complete_accepts_an_acknowledged_modify_visit(therapist):
    from intake.services import visit_complete

    visit = VisitFactory(
        **{f"intake__{k}": v for k, v in INTAKES["modify"].items()}, therapist=therapist
    )
    screening = services.screen_visit(visit=visit)
    actions.screening_acknowledge(screening=screening, by=therapist, note="light pressure")

    visit_complete(visit=visit, by=therapist, modality="swedish")

    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.performed_modality == "swedish"
