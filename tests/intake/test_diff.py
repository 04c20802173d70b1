from __future__ import annotations

from intake.diff import ADDED, CHANGED, REMOVED, diff_intakes


def _intake(**fields) -> dict:
    base = {
        "date_of_birth": "1980-05-01",
        "visit_date": "2026-11-20",
        "planned_modality": "swedish",
        "focus_regions": ["neck"],
        "conditions": [],
        "pregnancy": {"pregnant": False, "due_date": None, "weeks": None},
        "medications": [],
        "recent_illness": None,
        "current_pain": {"score": 3, "regions": ["neck"], "character": "dull", "radiating": False},
        "red_flags": [],
        "allergies": [],
        "free_text": "",
    }
    return {**base, **fields}


def _texts(diff, section):
    return {(c.kind, c.text) for c in diff.changes if c.section == section}


def test_identical_intakes_have_no_changes():
    assert not diff_intakes(_intake(), _intake())


def test_first_intake_lists_everything_as_added():
    diff = diff_intakes(None, _intake(medications=["warfarin 5 mg"]))
    assert (ADDED, "new: warfarin 5 mg") in _texts(diff, "Medications")
    assert (ADDED, "pain now 3/10 (a dull ache)") in _texts(diff, "Current pain")


def test_added_and_removed_conditions_are_listed():
    old = _intake(conditions=[{"code": "osteoporosis", "acute": False, "notes": ""}])
    new = _intake(conditions=[{"code": "thrombosis", "acute": True, "notes": ""}])
    assert _texts(diff_intakes(old, new), "Conditions") == {
        (ADDED, "new: Thrombosis (acute now)"),
        (REMOVED, "no longer listed: Osteoporosis"),
    }


def test_a_condition_becoming_acute_is_a_change():
    old = _intake(conditions=[{"code": "scoliosis", "acute": False, "notes": ""}])
    new = _intake(conditions=[{"code": "scoliosis", "acute": True, "notes": ""}])
    assert _texts(diff_intakes(old, new), "Conditions") == {(CHANGED, "Scoliosis: now acute")}
    assert _texts(diff_intakes(new, old), "Conditions") == {(CHANGED, "Scoliosis: no longer acute")}


def test_new_and_stopped_medications_ignore_case_and_spacing():
    old = _intake(medications=["Warfarin  5 mg", "ibuprofen"])
    new = _intake(medications=["warfarin 5 mg", "metformin"])
    assert _texts(diff_intakes(old, new), "Medications") == {
        (ADDED, "new: metformin"),
        (REMOVED, "stopped: ibuprofen"),
    }


def test_pregnancy_start_end_and_week_changes():
    pregnant = {"pregnant": True, "due_date": "2027-03-01", "weeks": 20}
    assert _texts(diff_intakes(_intake(), _intake(pregnancy=pregnant)), "Pregnancy") == {
        (ADDED, "now pregnant (20 weeks, due 2027-03-01)")
    }
    assert _texts(diff_intakes(_intake(pregnancy=pregnant), _intake()), "Pregnancy") == {
        (REMOVED, "no longer pregnant")
    }
    later = {**pregnant, "weeks": 29}
    assert _texts(
        diff_intakes(_intake(pregnancy=pregnant), _intake(pregnancy=later)), "Pregnancy"
    ) == {(CHANGED, "weeks: 20 → 29")}


def test_pain_score_character_radiating_and_regions_changes():
    new_pain = {"score": 7, "regions": ["lumbar"], "character": "sharp", "radiating": True}
    texts = _texts(diff_intakes(_intake(), _intake(current_pain=new_pain)), "Current pain")
    assert texts == {
        (CHANGED, "score: 3 → 7 (worse by 4)"),
        (CHANGED, "character: a dull ache → sharp"),
        (CHANGED, "now radiating"),
        (ADDED, "new region: Lower back"),
        (REMOVED, "region gone: Neck"),
    }


def test_pain_gone_is_listed():
    texts = _texts(diff_intakes(_intake(), _intake(current_pain=None)), "Current pain")
    assert texts == {(REMOVED, "no current pain (was 3/10)")}


def test_red_flags_allergies_and_illness_changes():
    new = _intake(
        red_flags=["numbness"],
        allergies=["latex"],
        recent_illness={"name": "influenza", "recovered_on": "2026-11-15"},
    )
    diff = diff_intakes(_intake(), new)
    assert _texts(diff, "Red flags") == {(ADDED, "new: Numbness")}
    assert _texts(diff, "Allergies") == {(ADDED, "new: latex")}
    assert _texts(diff, "Recent illness") == {(ADDED, "influenza, recovered 2026-11-15")}
    assert [section for section, _ in diff.by_section()][0] == "Red flags"


def test_recovery_date_set_later_is_a_change():
    ill = _intake(recent_illness={"name": "influenza", "recovered_on": None})
    well = _intake(recent_illness={"name": "influenza", "recovered_on": "2026-11-15"})
    assert _texts(diff_intakes(ill, well), "Recent illness") == {
        (CHANGED, "recovered on: not given → 2026-11-15")
    }


def test_free_text_and_plan_changes_are_noted():
    diff = diff_intakes(_intake(), _intake(free_text="new words", planned_modality="thai"))
    assert _texts(diff, "Free text") == {(CHANGED, "The client's own words changed")}
    assert (CHANGED, "modality: Swedish (classical) → Thai massage") in _texts(diff, "Plan")
