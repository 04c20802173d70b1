"""Review items, counted mentions, the clinic vocabulary and re-screening, end to end.

Against the real engine and catalogue: what the screener does not understand blocks
completion until the therapist resolves it, through the one restriction policy; the clinic
vocabulary and the supplementary tier are recorded on each screening and re-screen
scheduled visits when they change.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from screening import actions, services
from screening.models import Screening, ScreeningFlag, VocabularyTerm
from tests.factories import UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

EPILEPSY = {"intake__conditions": [{"code": "epilepsy", "acute": False, "notes": ""}]}
LABYRINTHECTOMY = {"intake__free_text": "I had a labyrinthectomy"}
MOTHER = {"intake__free_text": "Mother had osteoporosis."}


@pytest.fixture
def therapist(db):
    return UserFactory(username="tess", groups=["therapist"])


def _item(screening: Screening) -> ScreeningFlag:
    return screening.flags.get(code="unrecognised")


def test_an_unrecognised_condition_is_an_open_review_item_that_blocks_completion():
    visit = VisitFactory(**EPILEPSY)
    screening = services.screen_visit(visit=visit)

    item = _item(screening)
    assert (item.severity, item.item, item.is_open_review) == (
        "review",
        "conditions[0]: epilepsy",
        True,
    )
    assert screening.effective_decision == "review"
    problems = services.completion_problems(visit=visit, modality="swedish")
    assert any("Resolve “epilepsy” (condition 1)" in p for p in problems)


def test_not_relevant_with_a_reason_clears_it_and_records_who_and_when(therapist):
    visit = VisitFactory(**EPILEPSY)
    screening = services.screen_visit(visit=visit)

    actions.review_resolve(
        flag=_item(screening), by=therapist, resolution="not_relevant", reason="Seizure-free."
    )

    item = _item(screening)
    assert item.resolution == "not_relevant" and item.resolved_by == therapist
    assert item.resolved_at is not None and item.resolution_reason == "Seizure-free."
    screening.refresh_from_db()
    assert screening.effective_decision == "clear"
    assert services.completion_problems(visit=visit, modality="swedish") == []


def test_this_is_a_rule_applies_that_rule_and_recomputes_the_screening(therapist):
    visit = VisitFactory(**EPILEPSY, planned_modality="deep_tissue")
    screening = services.screen_visit(visit=visit)

    actions.review_resolve(
        flag=_item(screening), by=therapist, resolution="rule", rule_code="osteoporosis"
    )

    screening.refresh_from_db()
    assert screening.effective_decision == "modify"
    added = screening.flags.get(code="osteoporosis")
    assert (added.origin, added.added_by, added.item) == (
        "resolution",
        therapist,
        "conditions[0]: epilepsy",
    )
    assert added.detail["avoid_modalities"] == ["deep_tissue", "manual_therapy"]
    effective = services.restrictions(screening)
    assert "deep_tissue" in effective.blocked_modalities
    problems = services.completion_problems(visit=visit, modality="deep_tissue")
    assert any("Deep tissue is blocked" in p for p in problems)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"resolution": "not_relevant", "reason": "  "}, "Give the reason"),
        ({"resolution": "rule", "rule_code": "moon_phase"}, "Choose the rule"),
        ({"resolution": "maybe"}, "Say which rule this is"),
        (
            {"resolution": "not_relevant", "reason": "x", "propose_term": True},
            "Only an item resolved as a rule",
        ),
        ({"resolution": "not_relevant", "reason": "x" * 2001}, "longer than"),
    ],
)
def test_a_resolution_is_refused_with_a_clear_message_and_nothing_stored(
    therapist, fields, message
):
    screening = services.screen_visit(visit=VisitFactory(**EPILEPSY))

    with pytest.raises(ValidationError, match=message):
        actions.review_resolve(flag=_item(screening), by=therapist, **fields)

    assert _item(screening).is_open_review
    assert screening.flags.count() == 1


def test_an_item_is_resolved_once_and_only_by_a_therapist(therapist, front_desk):
    screening = services.screen_visit(visit=VisitFactory(**EPILEPSY))
    with pytest.raises(PermissionDenied):
        actions.review_resolve(
            flag=_item(screening), by=front_desk, resolution="not_relevant", reason="x"
        )
    actions.review_resolve(
        flag=_item(screening), by=therapist, resolution="not_relevant", reason="x"
    )
    with pytest.raises(ValidationError, match="already been resolved"):
        actions.review_resolve(
            flag=_item(screening), by=therapist, resolution="not_relevant", reason="y"
        )


def test_only_review_items_can_be_resolved_and_they_cannot_be_dismissed(therapist):
    screening = services.screen_visit(
        visit=VisitFactory(intake__free_text="I have osteoporosis and epilepsy")
    )
    rule_flag = screening.flags.get(code="osteoporosis")
    with pytest.raises(ValidationError, match="did not understand"):
        actions.review_resolve(flag=rule_flag, by=therapist, resolution="not_relevant", reason="x")
    with pytest.raises(ValidationError, match="can be dismissed"):
        actions.flag_dismiss(flag=_item(screening), by=therapist, reason="x")


@pytest.mark.parametrize(
    "changes",
    [
        {"resolution": "rule"},  # no rule named
        {"resolution": "not_relevant", "resolved_by": None},  # nobody
        {"resolution": "not_relevant", "resolution_reason": ""},  # no reason
        {"resolution": "sure"},
    ],
)
def test_the_database_refuses_a_resolution_without_who_what_or_why(therapist, changes):
    screening = services.screen_visit(visit=VisitFactory(**EPILEPSY))
    values = {
        "resolved_by": therapist,
        "resolved_at": timezone.now(),
        "resolution_reason": "reason",
    } | changes
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningFlag.objects.filter(pk=_item(screening).pk).update(**values)


def test_the_database_refuses_a_resolution_on_a_rule_flag_and_a_review_item_without_words(
    therapist,
):
    screening = services.screen_visit(
        visit=VisitFactory(intake__free_text="I have osteoporosis and epilepsy")
    )
    rule_flag = screening.flags.get(code="osteoporosis")
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningFlag.objects.filter(pk=rule_flag.pk).update(
            resolution="not_relevant",
            resolution_reason="x",
            resolved_by=therapist,
            resolved_at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningFlag.objects.filter(pk=_item(screening).pk).update(item="")
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningFlag.objects.filter(pk=_item(screening).pk).update(
            dismissed_at=timezone.now(), dismissed_by=therapist, dismissal_reason="x"
        )


def test_a_mention_not_counted_can_be_counted_with_one_click(therapist):
    visit = VisitFactory(**MOTHER)
    screening = services.screen_visit(visit=visit)
    assert screening.decision == "clear"
    [mention] = screening.result["mentions_not_counted"]
    assert (mention["code"], mention["reason"]) == ("osteoporosis", "family")

    flag = actions.mention_count(screening=screening, index=0, by=therapist)

    screening.refresh_from_db()
    assert screening.effective_decision == "modify"
    assert (flag.code, flag.origin, flag.added_by) == ("osteoporosis", "counted", therapist)
    with pytest.raises(ValidationError, match="already been counted"):
        actions.mention_count(screening=screening, index=0, by=therapist)
    with pytest.raises(ValidationError, match="not on this screening"):
        actions.mention_count(screening=screening, index=5, by=therapist)


def test_a_resolution_can_propose_a_term_that_counts_once_a_clinical_lead_activates_it(
    therapist, django_capture_on_commit_callbacks
):
    visit = VisitFactory(**LABYRINTHECTOMY)
    screening = services.screen_visit(visit=visit)
    item = _item(screening)
    assert item.item == "free_text: labyrinthectomy"

    actions.review_resolve(
        flag=item, by=therapist, resolution="rule", rule_code="recent_surgery", propose_term=True
    )
    term = VocabularyTerm.objects.get()
    assert (term.phrase, term.rule_code, term.status) == (
        "labyrinthectomy",
        "recent_surgery",
        "proposed",
    )
    # Proposed: nothing changes yet.
    assert visit.current_screening() == screening

    term.status = VocabularyTerm.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        term.save()  # re-screens scheduled visits once committed

    rescreened = visit.current_screening()
    assert rescreened != screening
    assert rescreened.vocabulary_version != ""
    assert "recent_surgery" in {f.code for f in rescreened.flags.all()}
    assert not rescreened.flags.filter(code="unrecognised").exists()
    assert term.history.count() == 2


def test_a_vocabulary_change_rescreens_only_scheduled_visits(django_capture_on_commit_callbacks):
    scheduled = VisitFactory(**LABYRINTHECTOMY)
    cancelled = VisitFactory(**LABYRINTHECTOMY)
    before = {v.pk: services.screen_visit(visit=v) for v in (scheduled, cancelled)}
    type(cancelled).objects.filter(pk=cancelled.pk).update(
        status="cancelled", status_reason="Client rang"
    )

    with django_capture_on_commit_callbacks(execute=True):
        VocabularyTerm.objects.create(
            phrase="labyrinthectomy", rule_code="recent_surgery", status="active"
        )

    assert scheduled.current_screening() != before[scheduled.pk]
    assert cancelled.current_screening() == before[cancelled.pk]


def test_switching_the_supplementary_tier_records_it_and_rescreens(settings):
    visit = VisitFactory(intake__conditions=[{"code": "asthma", "acute": False, "notes": ""}])
    on = services.screen_visit(visit=visit)
    assert (on.decision, on.supplementary_version) == ("clearance", "1")
    assert on.flags.get().tier == "supplementary"

    settings.SCREENING_SUPPLEMENTARY = False
    assert not services.is_current(screening=on, visit=visit)
    assert services.rescreen_scheduled() == 1

    off = visit.current_screening()
    assert (off.decision, off.supplementary_version) == ("review", "")
    assert off.flags.get().suggestions == ["asthma"]
    assert services.rescreen_scheduled() == 0
