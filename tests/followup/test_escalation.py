"""Tests for the pure follow-up escalation function (followup_policy U1-U4, R1-R4)."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import yaml

from followup.escalation import (
    CHARACTERS,
    RED_FLAGS,
    REVIEW_RED_FLAGS,
    URGENT_RED_FLAGS,
    Answer,
    EscalationResult,
    FollowupInputError,
    evaluate,
    parse_followup,
)

# The product documents live beside the project root (../shared).
SHARED = Path(os.environ.get("CLINIC_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))


def a(hours, score, character="dull", radiating=False, red_flags=()):
    return Answer(
        hours=hours, score=score, character=character, radiating=radiating, red_flags=red_flags
    )


def run(baseline, *answers):
    return evaluate(baseline_pain=baseline, answers=list(answers))


def summary(result: EscalationResult):
    return result.level, result.at_hours, [(r.rule, r.hours) for r in result.reasons]


# (id, baseline, answers, level, at_hours, reasons). Each rule fires alone, next to a near miss.
CASES = [
    # U1: any urgent red flag, even with mild dull pain.
    ("u1_numbness", 2, [a(24, 2, red_flags=("numbness",))], "urgent", 24, [("U1", 24)]),
    ("u1_near_miss_no_flags", 2, [a(24, 2)], None, None, []),
    # U2: radiating, whatever the score.
    ("u2_radiating_mild", 2, [a(24, 2, radiating=True)], "urgent", 24, [("U2", 24)]),
    ("u2_radiating_zero", 0, [a(24, 0, "none", radiating=True)], "urgent", 24, [("U2", 24)]),
    # U3: sharp and >= 7; R1 does not fire when urgent at that answer.
    ("u3_sharp_7", 6, [a(24, 7, "sharp")], "urgent", 24, [("U3", 24)]),
    ("u3_sharp_10", 10, [a(24, 10, "sharp")], "urgent", 24, [("U3", 24)]),
    ("u3_near_miss_sharp_6_is_r1", 6, [a(24, 6, "sharp")], "review", 24, [("R1", 24)]),
    ("u3_near_miss_throbbing_7", 6, [a(24, 7, "throbbing")], None, None, []),
    ("u3_near_miss_dull_9", 9, [a(24, 9, "dull")], None, None, []),
    # R1: sharp and not urgent.
    ("r1_sharp_mild", 2, [a(24, 2, "sharp")], "review", 24, [("R1", 24)]),
    ("r1_sharp_zero", 0, [a(24, 0, "sharp")], "review", 24, [("R1", 24)]),
    ("r1_not_with_u2", 3, [a(24, 3, "sharp", radiating=True)], "urgent", 24, [("U2", 24)]),
    ("r1_not_with_u1", 3, [a(24, 3, "sharp", red_flags=("fever",))], "urgent", 24, [("U1", 24)]),
    # R2: score >= previous + 2 and score >= 4; previous = baseline at 24 h.
    ("r2_plus_2_to_4", 2, [a(24, 4)], "review", 24, [("R2", 24)]),
    ("r2_plus_4_to_4", 0, [a(24, 4)], "review", 24, [("R2", 24)]),
    ("r2_near_miss_plus_1", 3, [a(24, 4)], None, None, []),
    ("r2_near_miss_plus_2_to_3", 1, [a(24, 3)], None, None, []),
    ("r2_near_miss_plus_3_to_3", 0, [a(24, 3)], None, None, []),
    (
        "r2_previous_is_last_answer_not_baseline",
        5,
        [a(24, 2), a(48, 4)],
        "review",
        48,
        [("R2", 48)],
    ),
    ("r2_near_miss_baseline_only_counts_at_24", 2, [a(24, 3), a(48, 4)], None, None, []),
    # R4: any review red flag.
    ("r4_bruising", 1, [a(24, 1, red_flags=("bruising",))], "review", 24, [("R4", 24)]),
    ("r4_hematoma", 0, [a(24, 0, "none", red_flags=("hematoma",))], "review", 24, [("R4", 24)]),
    # U4 at 72 h: 24 < 48 < 72, 72 >= 4, 72 >= baseline + 2.
    ("u4_still_rising", 2, [a(24, 3), a(48, 4), a(72, 5)], "urgent", 72, [("U4", 72), ("R3", 72)]),
    ("u4_near_miss_72_is_3", 0, [a(24, 1), a(48, 2), a(72, 3)], "review", 72, [("R3", 72)]),
    (
        "u4_near_miss_below_baseline_plus_2",
        4,
        [a(24, 3), a(48, 4), a(72, 5)],
        "review",
        72,
        [("R3", 72)],
    ),
    (
        "u4_near_miss_flat_24_to_48",
        2,
        [a(24, 4), a(48, 4), a(72, 5)],
        "review",
        24,
        [("R2", 24), ("R3", 72)],
    ),
    ("u4_near_miss_flat_48_to_72", 1, [a(24, 2), a(48, 3), a(72, 3)], "review", 72, [("R3", 72)]),
    # R3 at 72 h: 72 > baseline and 72 >= max(24, 48).
    ("r3_no_improvement", 3, [a(24, 4), a(48, 3), a(72, 4)], "review", 72, [("R3", 72)]),
    ("r3_near_miss_back_to_baseline", 4, [a(24, 5), a(48, 4), a(72, 4)], None, None, []),
    ("r3_near_miss_improving", 2, [a(24, 3), a(48, 4), a(72, 3)], None, None, []),
    # Expected soreness: mild, or falling, with no red flags.
    ("mild_doms_rise_to_3", 0, [a(24, 3), a(48, 2), a(72, 1)], None, None, []),
    (
        "falling_stiffness_and_throbbing",
        6,
        [a(24, 5, "stiffness"), a(48, 4, "throbbing"), a(72, 2)],
        None,
        None,
        [],
    ),
    ("high_but_falling", 8, [a(24, 7), a(48, 6), a(72, 5)], None, None, []),
    ("pain_free", 0, [a(24, 0, "none"), a(48, 0, "none"), a(72, 0, "none")], None, None, []),
    # Level is the highest reached; at_hours is the first answer that reached it.
    (
        "urgent_later_wins_over_earlier_review",
        2,
        [a(24, 3, "sharp"), a(48, 3, "sharp"), a(72, 3, radiating=True)],
        "urgent",
        72,
        [("R1", 24), ("R1", 48), ("U2", 72), ("R3", 72)],
    ),
    (
        "review_at_first_answer_that_reached_it",
        1,
        [a(24, 1), a(48, 2, "sharp"), a(72, 1, "sharp")],
        "review",
        48,
        [("R1", 48), ("R1", 72)],
    ),
    (
        "urgent_first_reached_at_24",
        2,
        [a(24, 8, "sharp"), a(48, 3, radiating=True), a(72, 2)],
        "urgent",
        24,
        [("U3", 24), ("R2", 24), ("U2", 48)],
    ),
    (
        "urgent_before_review_at_the_same_answer",
        2,
        [a(24, 9, "sharp", True, ("tingling", "bruising"))],
        "urgent",
        24,
        [("U1", 24), ("U2", 24), ("U3", 24), ("R2", 24), ("R4", 24)],
    ),
    # Missing check-ins (see the module docstring).
    (
        "missing_48_is_no_trend_so_no_u4_but_r3_reviews",
        2,
        [a(24, 3), a(72, 5)],
        "review",
        72,
        [("R2", 72), ("R3", 72)],
    ),
    (
        "missing_48_no_u4_when_72_is_only_1_above_24",
        2,
        [a(24, 4), a(72, 5)],
        "review",
        24,
        [("R2", 24), ("R3", 72)],
    ),
    ("missing_48_previous_is_24", 5, [a(24, 2), a(72, 4)], "review", 72, [("R2", 72)]),
    (
        "missing_24_is_no_trend_so_no_u4_but_r3_reviews",
        2,
        [a(48, 3), a(72, 5)],
        "review",
        72,
        [("R2", 72), ("R3", 72)],
    ),
    (
        "missing_24_no_u4_when_48_is_0",
        0,
        [a(48, 0, "none"), a(72, 4)],
        "review",
        72,
        [("R2", 72), ("R3", 72)],
    ),
    ("missing_24_previous_is_baseline", 2, [a(48, 4)], "review", 48, [("R2", 48)]),
    ("only_72_high_is_review_not_urgent", 2, [a(72, 5)], "review", 72, [("R2", 72), ("R3", 72)]),
    ("only_72_above_baseline_is_r3", 2, [a(72, 3)], "review", 72, [("R3", 72)]),
    ("only_72_falling_is_nothing", 5, [a(72, 3)], None, None, []),
    ("missing_72_no_72h_rules", 2, [a(24, 3), a(48, 3)], None, None, []),
    ("no_answers_yet", 4, [], None, None, []),
    # 72-h rules apply only at hours == 72; other hours get per-answer rules only.
    ("off_nominal_hours_no_u4", 2, [a(12, 3), a(36, 4), a(60, 5)], None, None, []),
    (
        "answer_after_72_is_not_a_72h_slot",
        2,
        [a(24, 3), a(48, 4), a(72, 4), a(96, 5)],
        "review",
        72,
        [("R3", 72)],
    ),
    ("off_nominal_hours_keep_per_answer_rules", 3, [a(6, 5)], "review", 6, [("R2", 6)]),
]


@pytest.mark.parametrize(
    ("baseline", "answers", "level", "at_hours", "reasons"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_policy_case_gives_expected_level_time_and_reasons(
    baseline, answers, level, at_hours, reasons
):
    assert summary(run(baseline, *answers)) == (level, at_hours, reasons)


@pytest.mark.parametrize("flag", URGENT_RED_FLAGS)
def test_every_urgent_red_flag_alone_is_urgent(flag):
    assert summary(run(0, a(24, 0, "none", red_flags=(flag,)))) == ("urgent", 24, [("U1", 24)])


@pytest.mark.parametrize("flag", REVIEW_RED_FLAGS)
def test_every_review_red_flag_alone_is_review(flag):
    assert summary(run(0, a(24, 0, "none", red_flags=(flag,)))) == ("review", 24, [("R4", 24)])


@pytest.mark.parametrize("character", [c for c in CHARACTERS if c != "sharp"])
def test_falling_pain_that_is_not_sharp_does_not_escalate_however_high(character):
    assert not run(10, a(24, 9, character), a(48, 8, character), a(72, 6, character)).escalate


@pytest.mark.parametrize("seed", range(5))
def test_answers_in_any_order_give_the_same_result(seed):
    answers = [a(24, 3, "sharp"), a(48, 4), a(72, 5, red_flags=("bruising",))]
    expected = run(2, *answers)
    random.Random(seed).shuffle(answers)
    assert run(2, *answers) == expected


def test_u4_never_fires_without_r3_so_missing_answers_still_reach_the_therapist():
    for baseline in range(11):
        for s24 in [None, *range(11)]:
            for s48 in [None, *range(11)]:
                for s72 in range(11):
                    answers = [
                        a(h, s) for h, s in ((24, s24), (48, s48), (72, s72)) if s is not None
                    ]
                    rules = run(baseline, *answers).rules
                    assert "U4" not in rules or "R3" in rules, (baseline, s24, s48, s72)


def test_u4_with_every_answer_present_matches_the_policy_formula():
    for baseline in range(0, 11, 2):
        for s24 in range(11):
            for s48 in range(11):
                for s72 in range(11):
                    expected = s24 < s48 < s72 and s72 >= 4 and s72 >= baseline + 2
                    rules = run(baseline, a(24, s24), a(48, s48), a(72, s72)).rules
                    assert ("U4" in rules) == expected, (baseline, s24, s48, s72)


def test_result_serialises_to_the_contract_shape():
    result = run(3, a(24, 5))
    assert result.to_dict() == {
        "escalate": True,
        "level": "review",
        "at_hours": 24,
        "reasons": [{"rule": "R2", "hours": 24}],
    }


def test_no_escalation_serialises_nulls_and_no_reasons():
    assert run(3, a(24, 2)).to_dict() == {
        "escalate": False,
        "level": None,
        "at_hours": None,
        "reasons": [],
    }


def test_answer_accepts_a_list_of_red_flags_and_stays_hashable():
    answer = Answer(hours=24, score=1, character="dull", radiating=False, red_flags=["fever"])
    assert answer.red_flags == ("fever",)
    assert hash(answer)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            [a(24, 1), a(24, 2)],
            "answers[1].hours: duplicate check-in at 24 hours (also answers[0])",
        ),
        ([a(24, 11)], "answers[0].score: must be an integer from 0 to 10"),
        ([a(24, True)], "answers[0].score: must be an integer from 0 to 10"),
        ([a(0, 1)], "answers[0].hours: must be a whole number of hours from 1 to 720"),
        ([a(24, 1, "stabbing")], "answers[0].character: must be one of"),
        ([a(24, 1, red_flags=("dizzy",))], 'answers[0].red_flags[0]: unknown red flag "dizzy"'),
        ([a(24, 1, radiating=1)], "answers[0].radiating: must be true or false"),
        ([a(h, 1) for h in range(1, 12)], "answers: must have at most 10 answers"),
    ],
)
def test_evaluate_rejects_answers_outside_the_vocabulary(answers, message):
    with pytest.raises(FollowupInputError, match="^" + re.escape(message)):
        evaluate(baseline_pain=2, answers=answers)


def test_evaluate_rejects_a_baseline_outside_0_to_10():
    with pytest.raises(
        FollowupInputError, match=r"^baseline_pain: must be an integer from 0 to 10"
    ):
        evaluate(baseline_pain=-1, answers=[])


# ---- parse_followup ---------------------------------------------------------------------------


def answer_json(**changes):
    answer = {"hours": 24, "score": 5, "character": "dull", "radiating": False, "red_flags": []}
    answer.update(changes)
    return answer


def followup_json(*answers, baseline_pain=3):
    return {"baseline_pain": baseline_pain, "answers": list(answers) or [answer_json()]}


def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def test_parse_followup_returns_baseline_and_answers():
    baseline, answers = parse_followup(followup_json(answer_json(red_flags=["numbness"])))
    assert baseline == 3
    assert answers == [a(24, 5, red_flags=("numbness",))]


def test_parse_followup_keeps_input_order_for_evaluate_to_sort():
    _, answers = parse_followup(followup_json(answer_json(hours=72), answer_json(hours=24)))
    assert [answer.hours for answer in answers] == [72, 24]


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("Numbness", "numbness"),
        (" fever ", "fever"),
        ("limb weakness", "limb_weakness"),
        ("weakness", "limb_weakness"),
        ("pins and needles", "tingling"),
        ("bladder-dysfunction", "bowel_bladder_dysfunction"),
        ("bruises", "bruising"),
        ("haematoma", "hematoma"),
    ],
)
def test_parse_followup_accepts_defined_red_flag_aliases(raw, flag):
    _, answers = parse_followup(followup_json(answer_json(red_flags=[raw])))
    assert answers[0].red_flags == (flag,)


def test_parse_followup_normalises_character_case():
    _, answers = parse_followup(followup_json(answer_json(character=" Sharp ")))
    assert answers[0].character == "sharp"


BAD_INPUT = [
    ("not_an_object", [], "must be a JSON object with baseline_pain, answers"),
    ("null", None, "must be a JSON object with baseline_pain, answers"),
    ("missing_baseline", {"answers": []}, "baseline_pain: required field is missing"),
    ("missing_answers", {"baseline_pain": 3}, "answers: required field is missing"),
    ("baseline_bool", followup_json(baseline_pain=True), "baseline_pain: must be an integer"),
    ("baseline_11", followup_json(baseline_pain=11), "baseline_pain: must be an integer"),
    ("baseline_negative", followup_json(baseline_pain=-1), "baseline_pain: must be an integer"),
    ("baseline_string", followup_json(baseline_pain="3"), "baseline_pain: must be an integer"),
    ("baseline_null", followup_json(baseline_pain=None), "baseline_pain: must be an integer"),
    ("answers_object", {"baseline_pain": 3, "answers": {}}, "answers: must be a list of answers"),
    ("answers_null", {"baseline_pain": 3, "answers": None}, "answers: must be a list of answers"),
    (
        "too_many_answers",
        followup_json(*[answer_json(hours=h) for h in range(1, 12)]),
        "answers: must have at most 10 answers",
    ),
    ("answer_not_object", followup_json(5), "answers[0]: must be a JSON object with hours"),
    (
        "answer_missing_score",
        followup_json(without(answer_json(), "score")),
        "answers[0].score: required field is missing",
    ),
    ("score_float", followup_json(answer_json(score=7.5)), "answers[0].score: must be an integer"),
    ("score_float_whole", followup_json(answer_json(score=7.0)), "answers[0].score: must be an"),
    ("score_string", followup_json(answer_json(score="7.5")), "answers[0].score: must be an"),
    ("score_bool", followup_json(answer_json(score=False)), "answers[0].score: must be an"),
    ("score_11", followup_json(answer_json(score=11)), "answers[0].score: must be an integer"),
    ("score_huge", followup_json(answer_json(score=10**30)), "answers[0].score: must be an"),
    ("hours_zero", followup_json(answer_json(hours=0)), "answers[0].hours: must be a whole"),
    ("hours_negative", followup_json(answer_json(hours=-24)), "answers[0].hours: must be a whole"),
    ("hours_float", followup_json(answer_json(hours=24.0)), "answers[0].hours: must be a whole"),
    ("hours_string", followup_json(answer_json(hours="24")), "answers[0].hours: must be a whole"),
    ("hours_too_late", followup_json(answer_json(hours=721)), "answers[0].hours: must be a whole"),
    (
        "duplicate_hours",
        followup_json(answer_json(hours=48), answer_json(hours=24), answer_json(hours=48)),
        "answers[2].hours: duplicate check-in at 48 hours (also answers[0])",
    ),
    (
        "unknown_character",
        followup_json(answer_json(character="burning")),
        "answers[0].character: must be one of dull, sharp, throbbing, stiffness, none",
    ),
    ("character_null", followup_json(answer_json(character=None)), "answers[0].character: must"),
    ("character_list", followup_json(answer_json(character=["dull"])), "answers[0].character"),
    ("radiating_string", followup_json(answer_json(radiating="no")), "answers[0].radiating: must"),
    ("radiating_int", followup_json(answer_json(radiating=0)), "answers[0].radiating: must be"),
    ("radiating_null", followup_json(answer_json(radiating=None)), "answers[0].radiating: must"),
    ("red_flags_string", followup_json(answer_json(red_flags="fever")), "answers[0].red_flags: m"),
    ("red_flags_null", followup_json(answer_json(red_flags=None)), "answers[0].red_flags: must"),
    (
        "red_flag_not_string",
        followup_json(answer_json(red_flags=["fever", 3])),
        "answers[0].red_flags[1]: must be a string",
    ),
    (
        "red_flag_unknown",
        followup_json(answer_json(red_flags=["headache"])),
        'answers[0].red_flags[0]: unknown red flag "headache"; must be one of numbness,',
    ),
    (
        "red_flag_duplicate_via_alias",
        followup_json(answer_json(red_flags=["bruising", "bruises"])),
        'answers[0].red_flags[1]: duplicate red flag "bruises"',
    ),
    (
        "red_flag_unicode_is_escaped",
        followup_json(answer_json(red_flags=["fièvre\u0000"])),
        'answers[0].red_flags[0]: unknown red flag "fi\\u00e8vre\\u0000"',
    ),
    (
        "red_flag_markup_is_quoted",
        followup_json(answer_json(red_flags=["<script>alert(1)</script>"])),
        'answers[0].red_flags[0]: unknown red flag "<script>alert(1)</script>"',
    ),
    (
        "red_flag_huge_is_truncated",
        followup_json(answer_json(red_flags=["x" * 100_000])),
        f'answers[0].red_flags[0]: unknown red flag "{"x" * 36}...;',
    ),
    (
        "second_answer_path",
        followup_json(answer_json(), answer_json(hours=48, score=-1)),
        "answers[1].score",
    ),
]


@pytest.mark.parametrize(
    ("obj", "message"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_parse_followup_rejects_bad_input_naming_path_and_reason(obj, message):
    with pytest.raises(FollowupInputError) as excinfo:
        parse_followup(obj)
    assert str(excinfo.value).startswith(message)


def test_input_error_has_path_and_reason():
    with pytest.raises(FollowupInputError) as excinfo:
        parse_followup(followup_json(answer_json(), answer_json(hours=48, score=7.5)))
    assert excinfo.value.path == "answers[1].score"
    assert excinfo.value.reason == "must be an integer from 0 to 10"
    assert str(excinfo.value) == "answers[1].score: must be an integer from 0 to 10"


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 3, 4, 7, 10, 11, -1, 24, 48, 72, 10**20, 2.5, float("inf")])
    if kind == 3:
        return rng.choice(["", "dull", "sharp", "numbness", "fever", "bruises", "∞", "\x00"])
    if kind == 4:
        return rng.choice(["hours", "score", "character", "radiating", "red_flags"])
    if kind == 5:
        return rng.randrange(0, 11)
    if kind in (6, 7):
        keys = ["hours", "score", "character", "radiating", "red_flags", "baseline_pain", "answers"]
        return {k: _random_json(rng, depth + 1) for k in rng.sample(keys, rng.randrange(8))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_parse_followup_raises_only_input_errors_for_random_input():
    rng = random.Random(20261120)
    for _ in range(5000):
        obj = _random_json(rng)
        if rng.random() < 0.5:
            obj = {"baseline_pain": rng.randrange(12), "answers": [_random_json(rng, 1)]}
        try:
            baseline, answers = parse_followup(obj)
        except FollowupInputError:
            continue
        evaluate(baseline_pain=baseline, answers=answers)


# ---- vocabulary --------------------------------------------------------------------------------


def test_red_flag_labels_cover_every_red_flag_in_plain_words():
    from clinical import vocabulary

    assert [f.code for f in vocabulary.FOLLOWUP_RED_FLAGS] == list(RED_FLAGS)
    for flag in vocabulary.FOLLOWUP_RED_FLAGS:
        assert "_" not in flag.label
        assert flag.label[0].isupper()


def _knowledge():
    path = SHARED / "screening-knowledge.yaml"
    if not path.is_file():
        pytest.skip("screening-knowledge.yaml not available (set CLINIC_SHARED_DIR)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_red_flag_vocabulary_matches_the_knowledge_file_policy():
    policy = _knowledge()["followup_policy"]
    assert list(URGENT_RED_FLAGS) == policy["urgent_red_flags"]
    assert list(REVIEW_RED_FLAGS) == policy["review_red_flags"]
    assert [rule["id"] for rule in policy["urgent_if_any"]] == ["U1", "U2", "U3", "U4"]
    assert [rule["id"] for rule in policy["review_if_any"]] == ["R1", "R2", "R3", "R4"]


def test_fields_beyond_the_contract_are_ignored_and_optional_ones_default():
    obj = {**followup_json(without(answer_json(), "red_flags")), "id": "case-7"}
    obj["answers"][0]["comment"] = "from a case file"
    baseline, answers = parse_followup(obj)
    assert answers[0].red_flags == ()
    assert answers[0].radiating is False or "radiating" in obj["answers"][0]
