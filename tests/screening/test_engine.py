from __future__ import annotations

import datetime as dt
import json

import pytest

from clinical.catalogue import get_catalogue
from clinical.intake import parse_intake
from screening.engine import screen

TODAY = dt.date(2026, 11, 22)
VISIT = dt.date(2026, 11, 20)
ALL = sorted(m.code for m in get_catalogue().modalities)
PRECAUTION_REGIONS = {"spine", "over_heart", "over_kidneys", "over_lungs", "abdominal_organs"}


def _screen(**fields):
    base = {
        "date_of_birth": "1980-05-01",
        "visit_date": VISIT.isoformat(),
        "planned_modality": "swedish",
    }
    base.update(fields)
    return screen(parse_intake(base, today=TODAY))


def _codes(result) -> list[str]:
    return [flag.code for flag in result.flags]


def _flag(result, code):
    return next(flag for flag in result.flags if flag.code == code)


def _cond(code, acute=False, notes=""):
    return {"conditions": [{"code": code, "acute": acute, "notes": notes}]}


def _pain(character="dull", regions=("lumbar",), radiating=False, score=4):
    return {
        "current_pain": {
            "score": score,
            "regions": list(regions),
            "character": character,
            "radiating": radiating,
        }
    }


def _pregnant(weeks=None, due_in_days=None):
    due = None if due_in_days is None else (VISIT + dt.timedelta(days=due_in_days)).isoformat()
    return {"pregnancy": {"pregnant": True, "weeks": weeks, "due_date": due}}


def _recovered(days_before_visit):
    day = VISIT - dt.timedelta(days=days_before_visit)
    return {"recent_illness": {"name": "influenza", "recovered_on": day.isoformat()}}


# Every rule: a minimal intake that flags it, and a near miss that must not.
RULE_CASES = {
    "acute_phase_or_exacerbation": (_cond("asthma", acute=True), _cond("asthma")),
    "recent_illness_within_7_days": (_recovered(6), _recovered(7)),
    "infectious_disease": (_cond("influenza"), _cond("allergic_rhinitis")),
    "spinal_infection_spondylitis": (
        _cond("infectious_spondylitis"),
        _cond("ankylosing_spondylitis"),
    ),
    "tuberculosis": (_cond("tb"), _cond("tb_vaccination")),
    "osteomyelitis": (_cond("osteomyelitis"), _cond("osteoarthritis")),
    "venereal_disease": (_cond("chlamydia"), _cond("vaginal_yeast")),
    "hiv_aids": (_cond("aids"), _cond("hearing_aids_user")),
    "hemophilia": (_cond("haemophilia"), _cond("hemochromatosis")),
    "bleeding": (_cond("active_bleeding"), _cond("bleached_hair")),
    "poor_blood_clotting": (_cond("von_willebrand"), _cond("willow_allergy")),
    "blood_disease": (_cond("anaemia"), _cond("amnesia")),
    "thrombosis": (_cond("dvt"), _cond("varicose_veins")),
    "aneurysm": (_cond("aortic_aneurysm"), _cond("aortic_valve_repair")),
    "blood_thinners": ({"medications": ["Eliquis 5 mg"]}, {"medications": ["ibuprofen 400 mg"]}),
    "oncological_disease": (_cond("lymphoma"), _cond("lipoma_removed")),
    "spinal_tumour_cyst_metastasis": (_cond("spinal_cyst"), _cond("ovarian_cyst")),
    "mental_illness": (_cond("bipolar_disorder"), _cond("low_mood")),
    "open_wounds": (_cond("open_wound"), _cond("healed_scar")),
    "skin_disease": (_cond("psoriasis"), _cond("dry_skin")),
    "purulent_lesions_abscess": (_cond("abscess"), _cond("acne")),
    "focal_inflammatory_process": (_cond("cellulitis"), _cond("cellulite")),
    "fracture": (_cond("fracture"), _cond("frozen_shoulder")),
    "fresh_soft_tissue_injury": (_cond("bruise"), _cond("muscle_strain")),
    "pre_existing_injury_strain_sprain": (_cond("sprain"), _cond("sprain", acute=True)),
    "spinal_injury": (_cond("vertebral_injury"), _cond("knee_injury")),
    "hip_joint_injury": (_cond("hip_injury"), _cond("hip_replacement")),
    "hernia_large_dorsal": (
        _cond("herniated_disc", notes="large, 9 mm"),
        _cond("herniated_disc", notes="small, 3 mm"),
    ),
    "hernia_toward_spinal_canal": (
        _cond("herniated_disc", notes="L4-L5, toward spinal canal"),
        _cond("herniated_disc", notes="L4-L5, lateral"),
    ),
    "intervertebral_hernia_or_protrusion": (
        _cond("disc_protrusion"),
        _cond("disc_surgery_consult"),
    ),
    "spinal_stenosis": (_cond("spinal_stenosis"), _cond("spina_bifida_occulta")),
    "spondylolisthesis_vertebral_displacement": (_cond("spondylolisthesis"), _cond("spondylitis")),
    "degenerative_disc_spondylosis": (_cond("osteochondrosis"), _cond("osteopathy_visits")),
    "underlying_back_problem_deep_tissue": (_cond("lumbago"), _cond("neck_stiffness")),
    "scoliosis_acute_stage": (_cond("scoliosis", acute=True), _cond("scoliosis")),
    "spinal_deformity": (_cond("kyphosis"), _cond("flat_feet")),
    "scoliosis_chronic": (_cond("scoliosis"), _cond("scoliosis", acute=True)),
    "inflamed_nerve_root_radiculopathy": (_cond("sciatica"), _cond("nerve_conduction_normal")),
    "inflammatory_arthritis_spine": (_cond("ankylosing_spondylitis"), _cond("osteoarthritis")),
    "myositis": (_cond("myositis"), _cond("myopia")),
    "congenital_dysplasia": (_cond("hip_dysplasia"), _cond("hip_pain")),
    "muscle_spasm": (_cond("muscle_spasm"), _cond("muscle_soreness")),
    "osteoporosis": (_cond("osteopenia"), _cond("osteoarthritis")),
    "hypertension_diabetes_concomitant": (_cond("type_2_diabetes"), _cond("low_blood_pressure")),
    "acute_back_pain_current": (_pain("sharp", ["lower back"]), _pain("sharp", ["knees"])),
    "radiating_pain_at_intake": (_pain(radiating=True), _pain(radiating=False)),
    "intake_red_flag_symptoms": ({"red_flags": ["tingling"]}, {"red_flags": []}),
    "pregnancy_third_trimester": (_pregnant(weeks=28), _pregnant(weeks=27)),
    "pregnancy_before_third_trimester": (
        _pregnant(weeks=12),
        {"pregnancy": {"pregnant": False, "weeks": None, "due_date": None}},
    ),
    "allergy_to_massage_products": ({"allergies": ["almond oil"]}, {"allergies": ["penicillin"]}),
    # The supplementary tier (public guidance outside the seed articles).
    "low_platelet_count": (_cond("thrombocytopenia"), _cond("platelet_donor")),
    "burns_sunburn": (_cond("sunburn"), {"free_text": "a burning pain in my calf"}),
    "healing_wound_cuts_abrasions": (_cond("graze"), _cond("grazing_animals_allergy")),
    "unexplained_pain": (_cond("unexplained_pain"), _cond("explained_to_me")),
    "contagious_skin_condition": (_cond("impetigo"), {"free_text": "shingles vaccine last year"}),
    "recent_surgery": (_cond("recent_surgery"), {"free_text": "the GP surgery rang me"}),
    "intoxication": (_cond("drunk"), {"free_text": "I don't drink much"}),
    "fever_reported": (_cond("fever"), {"free_text": "no fever"}),
    "oedema": (_cond("oedema"), _cond("edam_cheese_allergy")),
    "asthma": (_cond("asthma"), {"free_text": "no asthma"}),
    "heart_disease": (_cond("angina"), {"free_text": "my father had a heart attack"}),
    "lung_disease": (_cond("copd"), {"free_text": "lungs feel fine"}),
    "varicose_veins": (_cond("varicose_veins"), {"free_text": "my veins are fine"}),
}


def test_every_catalogue_rule_has_a_case():
    assert set(RULE_CASES) == {rule.code for rule in get_catalogue().rules}
    assert len(RULE_CASES) == 63


@pytest.mark.parametrize("code", sorted(RULE_CASES))
def test_rule_fires_on_its_minimal_case(code):
    result = _screen(**RULE_CASES[code][0])
    assert code in _codes(result)
    flag = _flag(result, code)
    assert flag.matched and flag.sources and flag.actions


@pytest.mark.parametrize("code", sorted(RULE_CASES))
def test_rule_does_not_fire_on_its_near_miss(code):
    assert code not in _codes(_screen(**RULE_CASES[code][1]))


def test_empty_intake_is_clear_with_universal_precautions_only():
    result = _screen()
    assert result.decision == "clear"
    assert result.flags == () and result.blocked_modalities == ()
    assert set(result.avoid_regions) == PRECAUTION_REGIONS
    assert len(result.universal_precautions) == len(get_catalogue().universal_precautions)


def test_to_dict_has_exactly_the_spec_shape():
    result = _screen(medications=["warfarin 5 mg"]).to_dict()
    assert list(result) == [
        "decision",
        "flags",
        "blocked_modalities",
        "avoid_regions",
        "universal_precautions",
        "catalogue_version",
        "unmatched_conditions",
        "mentions_not_counted",
    ]
    assert list(result["flags"][0]) == [
        "code",
        "severity",
        "title",
        "matched",
        "actions",
        "avoid_modalities",
        "avoid_regions",
        "sources",
        "tier",
    ]
    assert result["flags"][0]["matched"] == ["medication: warfarin 5 mg"]
    assert result["flags"][0]["sources"][0]["doc"] == "000_3843151269d94605.txt"
    assert result["catalogue_version"] == "1.1"
    json.dumps(result)


def test_spec_example_is_contraindicated_with_every_expected_flag():
    result = _screen(
        planned_modality="deep_tissue",
        focus_regions=["lumbar", "neck"],
        conditions=[
            {"code": "herniated_disc", "acute": False, "notes": "L4-L5, toward spinal canal"}
        ],
        medications=["warfarin 5 mg"],
        recent_illness={"name": "influenza", "recovered_on": "2026-11-15"},
        red_flags=["numbness"],
        allergies=["lavender oil"],
        **_pain(),
    )
    assert result.decision == "contraindicated"
    assert _codes(result) == [
        "recent_illness_within_7_days",
        "hernia_toward_spinal_canal",
        "intake_red_flag_symptoms",
        "blood_thinners",
        "intervertebral_hernia_or_protrusion",
        "underlying_back_problem_deep_tissue",
        "allergy_to_massage_products",
    ]
    assert _flag(result, "hernia_toward_spinal_canal").matched == (
        "condition notes (herniated_disc): 'toward spinal canal'",
    )
    assert _flag(result, "recent_illness_within_7_days").matched == (
        "recent illness: recovered 5 days before the visit",
    )
    assert _flag(result, "allergy_to_massage_products").matched == ("allergy: lavender oil",)


# ---- decision precedence and derived lists ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "decision"),
    [
        ({}, "clear"),
        (_cond("muscle_spasm"), "modify"),
        (_cond("hip_injury"), "local"),
        ({**_cond("hip_injury"), "medications": ["warfarin"]}, "clearance"),
        ({"conditions": [{"code": "muscle_spasm"}, {"code": "hip_injury"}]}, "local"),
        (
            {"conditions": [{"code": "muscle_spasm"}, {"code": "kyphosis"}, {"code": "dvt"}]},
            "contraindicated",
        ),
    ],
)
def test_decision_is_the_most_severe_flagged_severity(fields, decision):
    assert _screen(**fields).decision == decision


def test_flags_are_ordered_by_severity_then_catalogue_order():
    result = _screen(
        conditions=[
            {"code": "muscle_spasm"},
            {"code": "hip_injury"},
            {"code": "kyphosis"},
            {"code": "dvt"},
        ],
        medications=["warfarin"],
    )
    assert _codes(result) == [
        "thrombosis",
        "blood_thinners",
        "spinal_deformity",
        "hip_joint_injury",
        "muscle_spasm",
    ]


def test_contraindicated_blocks_every_modality():
    result = _screen(**_cond("dvt"))
    assert sorted(result.blocked_modalities) == ALL
    assert "all" not in result.blocked_modalities
    assert _flag(result, "thrombosis").avoid_modalities == ("all",)


def test_blocked_modalities_and_avoid_regions_are_unions_of_flags_and_precautions():
    result = _screen(
        conditions=[{"code": "spondylolisthesis"}, {"code": "hip_injury"}, {"code": "muscle_spasm"}]
    )
    assert set(result.blocked_modalities) == {
        "deep_tissue",
        "manual_therapy",
        "acupressure",
        "tonic",
    }
    assert set(result.avoid_regions) == PRECAUTION_REGIONS | {"hip_joint"}


# ---- pregnancy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pregnancy", "code", "matched"),
    [
        (_pregnant(weeks=28), "pregnancy_third_trimester", "pregnancy: 28+0 weeks (from weeks)"),
        (
            _pregnant(weeks=27),
            "pregnancy_before_third_trimester",
            "pregnancy: 27+0 weeks (from weeks)",
        ),
        (
            _pregnant(due_in_days=84),
            "pregnancy_third_trimester",
            "pregnancy: 28+0 weeks (from due date)",
        ),
        (
            _pregnant(due_in_days=85),
            "pregnancy_before_third_trimester",
            "pregnancy: 27+6 weeks (from due date)",
        ),
        (
            _pregnant(due_in_days=70),
            "pregnancy_third_trimester",
            "pregnancy: 30+0 weeks (from due date)",
        ),
        (
            _pregnant(due_in_days=-3),
            "pregnancy_third_trimester",
            "pregnancy: 40+3 weeks (from due date)",
        ),
    ],
)
def test_gestational_age_decides_the_trimester_rule(pregnancy, code, matched):
    result = _screen(**pregnancy)
    pregnancy_codes = [c for c in _codes(result) if c.startswith("pregnancy")]
    assert pregnancy_codes == [code]
    assert _flag(result, code).matched == (matched,)


def test_third_trimester_from_due_date_is_contraindicated():
    assert _screen(**_pregnant(due_in_days=84)).decision == "contraindicated"


def test_weeks_and_due_date_disagreeing_use_the_larger_value():
    result = _screen(**_pregnant(weeks=20, due_in_days=80))  # due date says 28+4
    assert result.decision == "contraindicated"
    assert result.gestational_days == 200
    assert "weeks and due date disagree" in _flag(result, "pregnancy_third_trimester").matched[0]
    result = _screen(**_pregnant(weeks=29, due_in_days=150))  # weeks say more
    assert _codes(result) == ["pregnancy_third_trimester"]
    assert result.gestational_days == 203


def test_pregnant_without_weeks_or_due_date_must_be_asked_before_booking():
    result = _screen(**_pregnant())
    assert result.decision == "contraindicated"
    assert _codes(result) == ["pregnancy_third_trimester"]
    assert "ask, do not book until known" in _flag(result, "pregnancy_third_trimester").matched[0]


def test_not_pregnant_flags_nothing_even_with_weeks():
    result = _screen(pregnancy={"pregnant": False, "weeks": 30, "due_date": None})
    assert result.flags == ()


# ---- recent illness ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("illness", "flagged", "matched"),
    [
        (_recovered(0), True, "recent illness: recovered 0 days before the visit"),
        (_recovered(1), True, "recent illness: recovered 1 day before the visit"),
        (_recovered(6), True, "recent illness: recovered 6 days before the visit"),
        (_recovered(7), False, None),
        (_recovered(30), False, None),
        (_recovered(-2), True, "recent illness: recovery date is after the visit (still ill)"),
        (
            {"recent_illness": {"name": "cold", "recovered_on": None}},
            True,
            "recent illness: not recovered yet (no recovery date)",
        ),
    ],
)
def test_days_since_recovery_below_seven_postpones(illness, flagged, matched):
    result = _screen(**illness)
    if flagged:
        assert result.decision == "contraindicated"
        assert _flag(result, "recent_illness_within_7_days").matched == (matched,)
    else:
        assert result.flags == ()


def test_recent_illness_name_is_not_keyword_searched():
    result = _screen(recent_illness={"name": "pneumonia", "recovered_on": "2026-10-01"})
    assert result.flags == ()


# ---- acute ------------------------------------------------------------------------------------


def test_requires_acute_true_fires_only_for_acute_conditions():
    assert _codes(_screen(**_cond("scoliosis", acute=True))) == [
        "acute_phase_or_exacerbation",
        "scoliosis_acute_stage",
        "underlying_back_problem_deep_tissue",
    ]


def test_requires_acute_false_fires_only_for_non_acute_conditions():
    assert _codes(_screen(**_cond("scoliosis"))) == [
        "underlying_back_problem_deep_tissue",
        "scoliosis_chronic",
    ]


def test_an_acute_strain_is_a_fresh_injury_and_an_old_one_is_modify():
    acute = _codes(_screen(**_cond("muscle_strain", acute=True)))
    assert "fresh_soft_tissue_injury" in acute
    assert "pre_existing_injury_strain_sprain" not in acute
    assert _codes(_screen(**_cond("muscle_strain"))) == ["pre_existing_injury_strain_sprain"]


def test_any_acute_condition_is_contraindicated_even_when_unknown():
    result = _screen(**_cond("gallbladder_attack", acute=True))
    assert _flag(result, "acute_phase_or_exacerbation").matched == (
        "condition (acute): gallbladder_attack",
    )
    assert result.unmatched_conditions == ("gallbladder_attack",)


# ---- current pain and red flags ---------------------------------------------------------------


@pytest.mark.parametrize(
    "region", ["neck", "lumbar", "lower back", "upper back", "thoracic", "spine", "back"]
)
def test_sharp_pain_in_any_back_region_is_acute_back_pain(region):
    assert "acute_back_pain_current" in _codes(_screen(**_pain("sharp", [region])))


@pytest.mark.parametrize("character", ["dull", "throbbing", "stiffness", "none"])
def test_non_sharp_back_pain_is_not_acute_back_pain(character):
    assert _screen(**_pain(character, ["lumbar"])).flags == ()


def test_every_intake_red_flag_is_contraindicated():
    result = _screen(red_flags=["numbness", "limb weakness", "fever", "bowel_bladder_dysfunction"])
    assert result.decision == "contraindicated"
    assert _flag(result, "intake_red_flag_symptoms").matched == (
        "red flag: numbness",
        "red flag: limb_weakness",
        "red flag: fever",
        "red flag: bowel_bladder_dysfunction",
    )


# ---- keywords, notes, free text ---------------------------------------------------------------


def test_condition_codes_match_after_normalising_case_spaces_and_hyphens():
    assert "thrombosis" in _codes(_screen(**_cond("Deep Vein-Thrombosis")))


def test_keywords_match_in_condition_codes():
    result = _screen(**_cond("lumbar_disc_hernia"))
    assert _flag(result, "intervertebral_hernia_or_protrusion").matched == (
        "condition: lumbar_disc_hernia",
    )


def test_a_hernia_outside_the_spine_is_a_review_item_not_a_disc_hernia():
    result = _screen(**_cond("inguinal_hernia"))
    assert _codes(result) == ["unrecognised"]
    assert result.flags[0].matched == ("conditions[0]: inguinal hernia",)
    assert "intervertebral_hernia_or_protrusion" in result.flags[0].suggestions


def test_keywords_match_in_condition_notes():
    result = _screen(**_cond("back_trouble", notes="MRI: disc protrusion L5"))
    assert _flag(result, "intervertebral_hernia_or_protrusion").matched == (
        "condition notes (back_trouble): 'protrusion'",
    )


def test_free_text_match_shows_a_snippet_and_is_dismissible():
    result = _screen(free_text="I was told last spring that I have osteoporosis in my hips.")
    flag = _flag(result, "osteoporosis")
    assert flag.matched[0].startswith("free text: '")
    assert "osteoporosis" in flag.matched[0]
    assert flag.free_text_only is True
    assert result.dismissible_flags == (flag,)


def test_a_flag_confirmed_by_a_condition_is_not_free_text_only():
    result = _screen(free_text="osteoporosis", **_cond("osteoporosis"))
    assert _flag(result, "osteoporosis").free_text_only is False
    assert len(_flag(result, "osteoporosis").matched) == 2


def test_free_text_cannot_satisfy_requires_acute_true():
    assert _codes(_screen(free_text="I have scoliosis")) == ["scoliosis_chronic"]


def test_medication_keywords_are_only_searched_in_medications():
    assert "blood_thinners" in _codes(_screen(medications=["Xarelto 20mg"]))
    assert "blood_thinners" not in _codes(_screen(free_text="my mother takes xarelto"))


@pytest.mark.parametrize(
    "free_text",
    [
        "No history of thrombosis.",
        "no thrombosis",
        "Never had a blood clot.",
        "denies DVT",
        "negative for tuberculosis",
    ],
)
def test_directly_negated_free_text_mentions_do_not_flag(free_text):
    result = _screen(free_text=free_text)
    assert result.flags == ()
    assert [m.reason for m in result.mentions_not_counted] == ["negated"]


@pytest.mark.parametrize(
    "free_text",
    [
        "Not sure whether it is thrombosis",
        "no idea if this is a fracture",
        "No, I had a fracture last month",
        "no pain but cancer last year",
        "History of thrombosis, no other problems",
    ],
)
def test_mentions_that_are_not_directly_negated_still_flag(free_text):
    assert _screen(free_text=free_text).decision == "contraindicated"


def test_negated_hernia_direction_in_notes_is_not_toward_the_canal():
    result = _screen(**_cond("herniated_disc", notes="lateral, not toward the spinal canal"))
    assert "hernia_toward_spinal_canal" not in _codes(result)
    assert "intervertebral_hernia_or_protrusion" in _codes(result)


# ---- look-alikes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "wanted", "unwanted"),
    [
        (
            _cond("ankylosing_spondylitis"),
            "inflammatory_arthritis_spine",
            "spinal_infection_spondylitis",
        ),
        (
            _cond("infectious_spondylitis"),
            "spinal_infection_spondylitis",
            "inflammatory_arthritis_spine",
        ),
        (
            _cond("spinal_stenosis", notes="narrowing of the spinal canal at L3"),
            "spinal_stenosis",
            "hernia_toward_spinal_canal",
        ),
        (
            _cond("spinal_stenosis", notes="bone spurs growing into the spinal canal"),
            "spinal_stenosis",
            "hernia_toward_spinal_canal",
        ),
        (
            _cond("herniated_disc", notes="pressing toward the spinal canal"),
            "hernia_toward_spinal_canal",
            "spinal_stenosis",
        ),
        (
            _cond("herniated_disc", notes="Towards_the  spinal-canal"),
            "hernia_toward_spinal_canal",
            "spinal_stenosis",
        ),
        (_cond("scoliosis"), "scoliosis_chronic", "scoliosis_acute_stage"),
    ],
)
def test_look_alike_conditions_are_not_confused(fields, wanted, unwanted):
    codes = _codes(_screen(**fields))
    assert wanted in codes
    assert unwanted not in codes


@pytest.mark.parametrize(
    "allergy",
    [
        "penicillin",
        "sulfa drugs",
        "boil ointment? no: antibiotics",
        "dental implant nickel",
        "latex",
        "nutrition shakes",
    ],
)
def test_drug_and_other_allergies_are_not_massage_product_allergies(allergy):
    allergy = allergy.replace("boil ointment? no: antibiotics", "boils from antibiotics")
    assert "allergy_to_massage_products" not in _codes(_screen(allergies=[allergy]))


@pytest.mark.parametrize(
    "allergy",
    [
        "lavender oil",
        "Essential oils",
        "tree nuts",
        "peanuts",
        "hazelnut oil",
        "coconut",
        "plant-based creams",
        "lanolin",
    ],
)
def test_massage_product_allergies_are_flagged(allergy):
    assert "allergy_to_massage_products" in _codes(_screen(allergies=[allergy]))


def test_in_a_castle_is_not_a_fracture_but_in_a_cast_is():
    assert _screen(free_text="We stayed in a castle last week").flags == ()
    assert "fracture" in _codes(_screen(free_text="my wrist is in a cast"))


# ---- unmatched conditions ---------------------------------------------------------------------


def test_unknown_condition_codes_are_kept_for_review():
    result = _screen(conditions=[{"code": "zorblax"}, {"code": "dvt"}, {"code": "zorblax"}])
    assert result.unmatched_conditions == ("zorblax",)
    assert result.to_dict()["unmatched_conditions"] == ["zorblax"]
    assert result.decision == "contraindicated"
    review = [flag for flag in result.flags if flag.code == "unrecognised"]
    assert [flag.matched for flag in review] == [
        ("conditions[0]: zorblax",),
        ("conditions[2]: zorblax",),
    ]


def test_matched_conditions_are_not_reported_as_unmatched():
    assert _screen(**_cond("herniated_disc")).unmatched_conditions == ()


def test_screening_is_deterministic_for_the_same_intake():
    fields = {**_cond("herniated_disc", notes="large"), "free_text": "osteoporosis"}
    assert _screen(**fields).to_dict() == _screen(**fields).to_dict()
