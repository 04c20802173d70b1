"""Screening services against the real engine and catalogue: storing, recomputing, recording."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from clinical.intake import IntakeError
from intake.models import VisitStatus
from screening import actions, services
from screening.models import Screening
from tests.factories import ClientFactory, IntakeFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the cast's passwords quickly; the strength of the hasher is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


WARFARIN = {"intake__medications": ["warfarin 5 mg"]}
FREE_TEXT_HERNIA = {"intake__free_text": "I had a hernia last year"}
OSTEOPOROSIS = {"intake__conditions": [{"code": "osteoporosis", "acute": False, "notes": ""}]}


def test_screen_visit_stores_the_engine_result_and_one_flag_per_rule():
    visit = VisitFactory(**WARFARIN)

    screening = services.screen_visit(visit=visit)

    assert screening.decision == "clearance"
    assert screening.intake == visit.intake
    assert screening.planned_modality == "swedish"
    assert screening.focus_regions == ["neck"]
    assert screening.visit_date == timezone.localdate()
    assert screening.catalogue_version == screening.result["catalogue_version"]
    assert screening.result["decision"] == "clearance"
    assert screening.result["blocked_modalities"] == ["deep_tissue"]
    assert "unmatched_conditions" in screening.result
    [flag] = screening.flags.all()
    assert flag.code == "blood_thinners"
    assert flag.severity == "clearance"
    assert flag.matched == ["medication: warfarin 5 mg"]
    assert flag.free_text_only is False
    assert flag.history.count() == 1


def test_a_match_in_free_text_alone_is_stored_as_free_text_only():
    screening = services.screen_visit(visit=VisitFactory(**FREE_TEXT_HERNIA))

    [flag] = screening.flags.all()
    assert flag.code == "intervertebral_hernia_or_protrusion"
    assert flag.free_text_only is True
    assert flag.matched[0].startswith("free text: ")


def test_unknown_conditions_are_kept_for_review():
    visit = VisitFactory(intake__conditions=[{"code": "zorblax", "acute": False, "notes": ""}])

    screening = services.screen_visit(visit=visit)

    assert screening.decision == "review"
    assert screening.result["unmatched_conditions"] == ["zorblax"]
    item = screening.flags.get()
    assert (item.code, item.severity, item.item) == (
        "unrecognised",
        "review",
        "conditions[0]: zorblax",
    )


def test_screening_again_without_a_change_returns_the_current_screening():
    visit = VisitFactory(**WARFARIN)
    first = services.screen_visit(visit=visit)

    again = services.screen_visit(visit=visit)

    assert again == first
    assert Screening.objects.filter(visit=visit).count() == 1


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("planned_modality", "deep_tissue"),
        ("focus_regions", ["lumbar"]),
        ("scheduled_at", timezone.now() + datetime.timedelta(days=3)),
    ],
)
def test_a_changed_plan_or_date_is_screened_again(change, value):
    visit = VisitFactory(**WARFARIN)
    first = services.screen_visit(visit=visit)
    setattr(visit, change, value)
    visit.save()

    second = services.screen_visit(visit=visit)

    assert second != first
    assert visit.current_screening() == second
    assert Screening.objects.filter(visit=visit).count() == 2


def test_a_new_intake_is_screened_again_and_starts_without_acknowledgement(therapist):
    visit = VisitFactory(**OSTEOPOROSIS)
    first = services.screen_visit(visit=visit)
    actions.screening_acknowledge(screening=first, by=therapist, note="gentle pressure")
    visit.intake = IntakeFactory(client=visit.client, medications=["warfarin"])
    visit.save()

    second = services.screen_visit(visit=visit)

    assert second != first
    assert second.decision == "clearance"
    assert not second.is_acknowledged


def test_a_new_catalogue_version_is_screened_again():
    visit = VisitFactory()
    first = services.screen_visit(visit=visit)
    Screening.objects.filter(pk=first.pk).update(catalogue_version="0-old")

    second = services.screen_visit(visit=visit)

    assert second.pk != first.pk
    assert second.catalogue_version == first.catalogue_version


@pytest.mark.django_db(transaction=True)
def test_a_visit_said_locked_is_screened_only_inside_its_transaction():
    # `locked` skips the visit's lock: outside a transaction nothing would hold it.
    visit = VisitFactory(**WARFARIN)

    with pytest.raises(ValueError, match="only held inside a transaction"):
        services.screen_visit(visit=visit, locked=True)

    assert not Screening.objects.filter(visit=visit).exists()


def test_a_visit_without_intake_cannot_be_screened():
    visit = VisitFactory(intake=None)

    with pytest.raises(IntakeError) as excinfo:
        services.screen_visit(visit=visit)

    assert excinfo.value.path == "intake"
    assert not Screening.objects.exists()


def test_acknowledgement_records_who_when_and_the_note(therapist):
    screening = services.screen_visit(visit=VisitFactory(**OSTEOPOROSIS))

    actions.screening_acknowledge(screening=screening, by=therapist, note="  no deep work ")

    screening.refresh_from_db()
    assert screening.acknowledged_by == therapist
    assert screening.acknowledged_at is not None
    assert screening.acknowledgement_note == "no deep work"
    assert screening.history.first().acknowledged_by_id == therapist.pk


def test_an_acknowledgement_is_never_replaced(therapist, superuser):
    screening = services.screen_visit(visit=VisitFactory(**OSTEOPOROSIS))
    actions.screening_acknowledge(screening=screening, by=therapist, note="first")

    with pytest.raises(ValidationError):
        actions.screening_acknowledge(screening=screening, by=superuser, note="second")

    screening.refresh_from_db()
    assert screening.acknowledged_by == therapist
    assert screening.acknowledgement_note == "first"


def test_front_desk_cannot_acknowledge(front_desk):
    screening = services.screen_visit(visit=VisitFactory(**OSTEOPOROSIS))

    with pytest.raises(PermissionDenied):
        actions.screening_acknowledge(screening=screening, by=front_desk, note="")


def test_a_replaced_screening_cannot_be_acknowledged(therapist):
    visit = VisitFactory(**OSTEOPOROSIS)
    old = services.screen_visit(visit=visit)
    visit.planned_modality = "relaxing"
    visit.save()
    services.screen_visit(visit=visit)

    with pytest.raises(ValidationError, match="replaced"):
        actions.screening_acknowledge(screening=old, by=therapist, note="")


def test_a_closed_visit_screening_cannot_be_acknowledged(therapist):
    visit = VisitFactory(**OSTEOPOROSIS)
    screening = services.screen_visit(visit=visit)
    visit.status, visit.status_reason = VisitStatus.CANCELLED, "client ill"
    visit.save()

    with pytest.raises(ValidationError, match="cancelled"):
        actions.screening_acknowledge(screening=screening, by=therapist, note="")


def test_dismissing_a_free_text_flag_records_who_when_and_why(therapist):
    screening = services.screen_visit(visit=VisitFactory(**FREE_TEXT_HERNIA))
    flag = screening.flags.get()

    actions.flag_dismiss(flag=flag, by=therapist, reason="  inguinal hernia, not spinal ")

    flag.refresh_from_db()
    assert flag.is_dismissed
    assert flag.dismissed_by == therapist
    assert flag.dismissal_reason == "inguinal hernia, not spinal"
    assert flag.history.first().dismissed_by_id == therapist.pk


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_dismissal_needs_a_reason(therapist, reason):
    flag = services.screen_visit(visit=VisitFactory(**FREE_TEXT_HERNIA)).flags.get()

    with pytest.raises(ValidationError, match="reason"):
        actions.flag_dismiss(flag=flag, by=therapist, reason=reason)

    flag.refresh_from_db()
    assert not flag.is_dismissed


def test_a_flag_from_structured_answers_cannot_be_dismissed(therapist):
    flag = services.screen_visit(visit=VisitFactory(**WARFARIN)).flags.get()

    with pytest.raises(ValidationError, match="free text"):
        actions.flag_dismiss(flag=flag, by=therapist, reason="client says it is fine")

    flag.refresh_from_db()
    assert not flag.is_dismissed


def test_a_flag_is_dismissed_once(therapist):
    flag = services.screen_visit(visit=VisitFactory(**FREE_TEXT_HERNIA)).flags.get()
    actions.flag_dismiss(flag=flag, by=therapist, reason="mother's hernia")

    with pytest.raises(ValidationError, match="already"):
        actions.flag_dismiss(flag=flag, by=therapist, reason="again")


def test_dismissed_flags_leave_the_decision_and_blocked_modalities():
    screening = services.screen_visit(
        visit=VisitFactory(
            intake__free_text="I had a hernia last year",
            intake__conditions=[{"code": "osteoporosis", "acute": False, "notes": ""}],
        )
    )
    before = services.restrictions(screening)
    assert before.decision == "clearance"
    assert set(before.blocked_modalities) == {"deep_tissue", "thai", "manual_therapy"}

    flag = screening.flags.get(free_text_only=True)
    actions.flag_dismiss(flag=flag, by=flag.screening.visit.therapist, reason="old, healed")
    after = services.restrictions(screening)

    assert after.decision == "modify"
    assert set(after.blocked_modalities) == {"deep_tissue", "manual_therapy"}
    assert [f.code for f in after.flags] == ["osteoporosis"]
    # Universal precautions always apply.
    assert "spine" in after.avoid_regions
    assert screening.decision == "clearance"  # the engine's own result stays on record


def test_a_contraindicated_screening_blocks_every_modality():
    visit = VisitFactory(intake__conditions=[{"code": "influenza", "acute": False, "notes": ""}])
    screening = services.screen_visit(visit=visit)

    effective = services.restrictions(screening)

    assert effective.decision == "contraindicated"
    assert "swedish" in effective.blocked_modalities
    assert "all" not in effective.blocked_modalities
    assert services.must_defer_or_cancel(visit=visit)


def test_recording_a_clearance(therapist):
    client = ClientFactory()
    today = timezone.localdate()

    clearance = actions.clearance_record(
        client=client,
        by=therapist,
        doctor_name=" Dr Ada Okafor ",
        issued_on=today,
        expires_on=today + datetime.timedelta(days=30),
        codes=["blood_thinners", "blood_thinners", "spinal_injury"],
        note="letter seen",
    )

    assert clearance.doctor_name == "Dr Ada Okafor"
    assert clearance.codes == ["blood_thinners", "spinal_injury"]
    assert clearance.recorded_by == therapist
    assert clearance.recorded_at is not None
    assert clearance.history.count() == 1
    assert clearance.covers("blood_thinners", today)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"codes": []}, "at least one rule"),
        ({"codes": ["osteoporosis"]}, "Not a rule that needs clearance: osteoporosis"),
        ({"codes": ["made_up"]}, "Not a rule that needs clearance: made_up"),
        ({"expires_on": datetime.date(2020, 1, 1)}, "expiry date cannot be before"),
        ({"doctor_name": "  "}, "doctor's name"),
        ({"doctor_name": "x" * 201}, "longer than"),
    ],
)
def test_a_bad_clearance_is_refused_and_nothing_is_stored(therapist, overrides, message):
    today = timezone.localdate()
    fields = {
        "doctor_name": "Dr Ada Okafor",
        "issued_on": today,
        "expires_on": today + datetime.timedelta(days=30),
        "codes": ["blood_thinners"],
    } | overrides

    with pytest.raises(ValidationError, match=message):
        actions.clearance_record(client=ClientFactory(), by=therapist, **fields)

    assert not ClientFactory._meta.model.objects.filter(clearances__isnull=False).exists()


def test_front_desk_cannot_record_a_clearance(front_desk):
    today = timezone.localdate()

    with pytest.raises(PermissionDenied):
        actions.clearance_record(
            client=ClientFactory(),
            by=front_desk,
            doctor_name="Dr Ada Okafor",
            issued_on=today,
            expires_on=today,
            codes=["blood_thinners"],
        )


def test_clearance_codes_are_the_catalogue_rules_of_severity_clearance():
    codes = actions.clearance_codes()

    assert "blood_thinners" in codes
    assert "intervertebral_hernia_or_protrusion" in codes
    assert "osteoporosis" not in codes


def test_a_closed_visit_keeps_the_screening_it_was_closed_on():
    visit = VisitFactory(**WARFARIN)
    first = services.screen_visit(visit=visit)
    visit.status, visit.status_reason = VisitStatus.DEFERRED, "needs a doctor's letter"
    visit.planned_modality = "relaxing"
    visit.save()

    assert services.screen_visit(visit=visit) == first


def test_an_out_of_date_screening_cannot_be_acknowledged(therapist):
    visit = VisitFactory(**OSTEOPOROSIS)
    screening = services.screen_visit(visit=visit)
    visit.planned_modality = "relaxing"
    visit.save()  # plan changed, not screened again yet

    with pytest.raises(ValidationError, match="out of date"):
        actions.screening_acknowledge(screening=screening, by=therapist, note="")
