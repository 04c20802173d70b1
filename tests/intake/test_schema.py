from __future__ import annotations

import datetime as dt
import json

import pytest

from clinical.intake import (
    MAX_FREE_TEXT_CHARS,
    Condition,
    CurrentPain,
    IntakeData,
    IntakeError,
    Pregnancy,
    RecentIllness,
    parse_intake,
    parse_intake_json,
)

TODAY = dt.date(2026, 11, 22)


def _intake(**fields):
    base = {
        "date_of_birth": "1980-05-01",
        "visit_date": "2026-11-20",
        "planned_modality": "swedish",
    }
    base.update(fields)
    return base


def _error(obj) -> str:
    with pytest.raises(IntakeError) as excinfo:
        parse_intake(obj, today=TODAY)
    return str(excinfo.value)


SPEC_EXAMPLE = {
    "date_of_birth": "1980-05-01",
    "visit_date": "2026-11-20",
    "planned_modality": "deep_tissue",
    "focus_regions": ["lumbar", "neck"],
    "conditions": [
        {"code": "herniated_disc", "acute": False, "notes": "L4-L5, toward spinal canal"}
    ],
    "pregnancy": {"pregnant": False, "due_date": None, "weeks": None},
    "medications": ["warfarin 5 mg"],
    "recent_illness": {"name": "influenza", "recovered_on": "2026-11-15"},
    "current_pain": {"score": 3, "regions": ["lumbar"], "character": "dull", "radiating": False},
    "red_flags": ["numbness"],
    "allergies": ["lavender oil"],
    "free_text": "anything the client adds",
}


def test_spec_example_parses_and_round_trips_through_to_dict():
    intake = parse_intake(SPEC_EXAMPLE, today=TODAY)
    assert intake.visit_date == dt.date(2026, 11, 20)
    assert intake.conditions[0].code == "herniated_disc"
    assert intake.current_pain.score == 3
    assert intake.to_dict() == SPEC_EXAMPLE
    assert parse_intake(intake.to_dict(), today=TODAY) == intake


def test_minimal_intake_has_empty_lists_and_no_optional_blocks():
    intake = parse_intake(_intake(), today=TODAY)
    assert intake.conditions == () and intake.focus_regions == () and intake.free_text == ""
    assert intake.pregnancy is None and intake.recent_illness is None
    assert intake.current_pain is None


def test_unknown_top_level_keys_are_ignored():
    intake = parse_intake(_intake(id="scenario-7", comment="from a test file"), today=TODAY)
    assert "id" not in intake.to_dict()


def test_parse_intake_json_reports_invalid_json_without_a_traceback():
    with pytest.raises(IntakeError, match=r"^intake: invalid JSON"):
        parse_intake_json("{not json")


def test_parse_intake_json_accepts_valid_text():
    assert parse_intake_json(json.dumps(_intake()), today=TODAY).planned_modality == "swedish"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Deep Tissue", "deep_tissue"),
        ("deep-tissue", "deep_tissue"),
        ("classical", "swedish"),
        ("SWEDISH", "swedish"),
        ("chiropractic", "manual_therapy"),
        ("essential oils", "aromatherapy"),
    ],
)
def test_modality_aliases_are_normalised_to_codes(name, code):
    assert parse_intake(_intake(planned_modality=name), today=TODAY).planned_modality == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("lower back", "lumbar"),
        ("Lower-Back", "lumbar"),
        ("lower_back", "lumbar"),
        ("upper back", "upper_back"),
        ("Full Body", "full_body"),
        ("shoulder", "shoulders"),
        ("spine", "spine"),
    ],
)
def test_region_aliases_are_normalised_to_codes(name, code):
    intake = parse_intake(_intake(focus_regions=[name]), today=TODAY)
    assert intake.focus_regions == (code,)


def test_condition_codes_are_normalised_and_unknown_ones_kept():
    intake = parse_intake(
        _intake(conditions=[{"code": "Herniated Disc"}, {"code": "Made-up thing"}, "scoliosis"]),
        today=TODAY,
    )
    assert [c.code for c in intake.conditions] == ["herniated_disc", "made_up_thing", "scoliosis"]
    assert intake.conditions[0].acute is False


def test_red_flag_aliases_are_normalised():
    intake = parse_intake(_intake(red_flags=["Numbness", "pins and needles"]), today=TODAY)
    assert intake.red_flags == ("numbness", "tingling")


def test_markup_in_free_text_is_stored_as_plain_text():
    text = "<script>alert(1)</script> & <b>bold</b>"
    assert parse_intake(_intake(free_text=text), today=TODAY).free_text == text


def test_unicode_free_text_is_kept():
    text = "Rückenschmerzen — ça va? 背中が痛い"
    assert parse_intake(_intake(free_text=text), today=TODAY).free_text == text


def test_null_blocks_mean_nothing_to_report():
    intake = parse_intake(
        _intake(
            pregnancy={"pregnant": None, "due_date": None, "weeks": None},
            recent_illness={"name": None, "recovered_on": None},
            current_pain={"score": None, "regions": [], "character": None, "radiating": None},
        ),
        today=TODAY,
    )
    assert intake.pregnancy is None and intake.recent_illness is None
    assert intake.current_pain is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current_pain": {"score": 11}}, "current_pain.score: must be an integer from 0 to 10"),
        ({"current_pain": {"score": -1}}, "current_pain.score: must be an integer from 0 to 10"),
        ({"current_pain": {"score": "7.5"}}, "current_pain.score: must be an integer from 0 to 10"),
        ({"current_pain": {"score": 7.5}}, "current_pain.score: must be an integer from 0 to 10"),
        ({"current_pain": {"score": "abc"}}, "current_pain.score: must be an integer from 0 to 10"),
        ({"current_pain": {"score": True}}, "current_pain.score: must be an integer from 0 to 10"),
        (
            {"current_pain": {"score": 3, "character": "burning"}},
            "current_pain.character: must be one of",
        ),
        (
            {"current_pain": {"score": 3, "radiating": "yes"}},
            "current_pain.radiating: must be true or false",
        ),
        (
            {"current_pain": {"score": 3, "regions": ["elbowz"]}},
            "current_pain.regions[0]: unknown region 'elbowz' (known: ",
        ),
        ({"current_pain": "bad"}, "current_pain: must be an object or null"),
        (
            {"focus_regions": ["neck", "elbowz"]},
            "focus_regions[1]: unknown region 'elbowz' (known: ",
        ),
        ({"focus_regions": "neck"}, "focus_regions: must be a list"),
        ({"planned_modality": "reiki"}, "planned_modality: unknown modality 'reiki' (known: "),
        ({"planned_modality": "all"}, "planned_modality: unknown modality 'all'"),
        ({"planned_modality": 5}, "planned_modality: must be a string"),
        ({"planned_modality": None}, "planned_modality: is required"),
        ({"date_of_birth": None}, "date_of_birth: is required"),
        ({"visit_date": "20.11.2026"}, "visit_date: must be a date in YYYY-MM-DD format"),
        ({"visit_date": "20261120"}, "visit_date: must be a date in YYYY-MM-DD format"),
        ({"visit_date": "2026-02-30"}, "visit_date: '2026-02-30' is not a valid date"),
        (
            {"date_of_birth": "2027-01-01", "visit_date": "2027-06-01"},
            "date_of_birth: must not be in the future",
        ),
        ({"date_of_birth": "2026-12-01"}, "date_of_birth: must not be after the visit date"),
        ({"date_of_birth": "1900-01-01"}, "date_of_birth: more than 120 years before the visit"),
        (
            {"conditions": [{"code": "asthma"}, {"code": "x"}, {"acute": True}]},
            "conditions[2].code: is required",
        ),
        ({"conditions": [{"code": ""}]}, "conditions[0].code: must not be empty"),
        (
            {"conditions": [{"code": "asthma", "acute": "yes"}]},
            "conditions[0].acute: must be true or false",
        ),
        ({"conditions": [42]}, "conditions[0]: must be an object with a code"),
        (
            {"pregnancy": {"pregnant": True, "weeks": 46}},
            "pregnancy.weeks: must be a whole number of weeks from 0 to 45",
        ),
        (
            {"pregnancy": {"pregnant": True, "weeks": 20.5}},
            "pregnancy.weeks: must be a whole number",
        ),
        ({"pregnancy": {"pregnant": "yes"}}, "pregnancy.pregnant: must be true or false"),
        ({"pregnancy": {"weeks": 20}}, "pregnancy.pregnant: is required"),
        (
            {"pregnancy": {"pregnant": True, "due_date": "2027-12-01"}},
            "pregnancy.due_date: more than 40 weeks",
        ),
        (
            {"recent_illness": {"name": "flu", "recovered_on": "yesterday"}},
            "recent_illness.recovered_on: must be a date",
        ),
        ({"red_flags": ["dizzy"]}, "red_flags[0]: unknown red flag 'dizzy' (known: numbness"),
        ({"medications": ["ok", 5]}, "medications[1]: must be a string"),
        ({"medications": ["x"] * 51}, "medications: too many items (51, at most 50)"),
        ({"allergies": ["a" * 501]}, "allergies[0]: too long (501 characters, at most 500)"),
        (
            {"free_text": "a" * 100_000},
            f"free_text: too long (100000 characters, at most {MAX_FREE_TEXT_CHARS})",
        ),
        ({"free_text": "hello\x00world"}, "free_text: must not contain NUL"),
        ({"conditions": [{"code": "asthma\x00"}]}, "conditions[0].code: must not contain NUL"),
        ({"free_text": 12}, "free_text: must be a string"),
    ],
)
def test_bad_input_is_rejected_with_field_path_and_reason(fields, message):
    assert _error(_intake(**fields)).startswith(message)


@pytest.mark.parametrize("value", [[], "text", 3, None, True])
def test_a_non_object_intake_is_rejected(value):
    assert _error(value) == "intake: must be a JSON object"


@pytest.mark.parametrize("missing", ["date_of_birth", "visit_date", "planned_modality"])
def test_each_required_field_is_named_when_missing(missing):
    obj = _intake()
    del obj[missing]
    assert _error(obj) == f"{missing}: is required"


def test_intake_error_carries_path_and_reason():
    with pytest.raises(IntakeError) as excinfo:
        parse_intake(_intake(current_pain={"score": 11}), today=TODAY)
    assert excinfo.value.path == "current_pain.score"
    assert excinfo.value.reason == "must be an integer from 0 to 10"


# parse_intake takes fast paths for the common valid case and leaves everything else to the
# full checks; these tests pin the edges where the two could disagree.


def test_parsed_dataclasses_equal_the_ones_built_by_their_constructors():
    intake = parse_intake(SPEC_EXAMPLE, today=TODAY)
    expected = IntakeData(
        date_of_birth=dt.date(1980, 5, 1),
        visit_date=dt.date(2026, 11, 20),
        planned_modality="deep_tissue",
        focus_regions=("lumbar", "neck"),
        conditions=(Condition(code="herniated_disc", notes="L4-L5, toward spinal canal"),),
        pregnancy=Pregnancy(pregnant=False),
        medications=("warfarin 5 mg",),
        recent_illness=RecentIllness(name="influenza", recovered_on=dt.date(2026, 11, 15)),
        current_pain=CurrentPain(score=3, regions=("lumbar",), character="dull"),
        red_flags=("numbness",),
        allergies=("lavender oil",),
        free_text="anything the client adds",
    )
    assert intake == expected and hash(intake) == hash(expected)
    assert repr(intake) == repr(expected)
    for parsed, built in [
        (intake, expected),
        (intake.conditions[0], expected.conditions[0]),
        (intake.pregnancy, expected.pregnancy),
        (intake.recent_illness, expected.recent_illness),
        (intake.current_pain, expected.current_pain),
    ]:
        assert vars(parsed) == vars(built)
        assert list(vars(parsed)) == list(vars(built))


def test_parsing_does_not_change_the_input():
    obj = json.loads(json.dumps(SPEC_EXAMPLE))
    parse_intake(obj, today=TODAY)
    assert obj == SPEC_EXAMPLE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("２０２６-11-20", "visit_date: '２０２６-11-20' is not a valid date"),
        ("2026-W47-5", "visit_date: must be a date in YYYY-MM-DD format"),
        ("2026112000", "visit_date: must be a date in YYYY-MM-DD format"),
        ("2026-11-20 ", "visit_date: must be a date in YYYY-MM-DD format"),
        ("2026-11-20T10:00", "visit_date: must be a date in YYYY-MM-DD format"),
        ("2026-1x-20", "visit_date: must be a date in YYYY-MM-DD format"),
        ("0000-01-01", "visit_date: '0000-01-01' is not a valid date"),
        ("", "visit_date: must be a date in YYYY-MM-DD format"),
    ],
)
def test_only_iso_calendar_dates_in_ascii_digits_are_accepted(value, message):
    assert _error(_intake(visit_date=value)) == message


def test_tabs_newlines_and_other_non_printing_text_are_kept_but_control_characters_are_not():
    intake = parse_intake(
        _intake(
            free_text="line one\n\tline two\u200b",
            medications=["  warfarin 5 mg\n"],
            conditions=[{"code": "asthma", "notes": "since\tchildhood"}],
        ),
        today=TODAY,
    )
    assert intake.free_text == "line one\n\tline two\u200b"
    assert intake.medications == ("warfarin 5 mg",)
    assert intake.conditions[0].notes == "since\tchildhood"
    assert _error(_intake(free_text="a\x7fb")).startswith("free_text: must not contain NUL")
    assert _error(_intake(allergies=["ok", "   "])) == "allergies[1]: must not be empty"


class _Text(str):
    """A str subclass, as some decoders return."""


def test_string_subclasses_are_accepted_like_strings():
    intake = parse_intake(
        _intake(
            planned_modality=_Text("swedish"),
            focus_regions=[_Text("neck")],
            medications=[_Text("warfarin")],
            conditions=[_Text("asthma")],
            current_pain={"score": 2, "character": _Text("dull")},
        ),
        today=TODAY,
    )
    assert intake.planned_modality == "swedish" and intake.focus_regions == ("neck",)
    assert intake.medications == ("warfarin",) and intake.conditions[0].code == "asthma"
    assert intake.current_pain.character == "dull"


def test_names_are_normalised_whatever_their_spacing_and_case():
    intake = parse_intake(
        _intake(
            planned_modality=" Deep-Tissue ",
            focus_regions=[" Neck ", "NECK", "cervical spine", "neck"],
            red_flags=["pins-and-needles", " numbness "],
            conditions=["5HTP syndrome", "ÄÖÜ", "a  -  b", {"code": "Asthma", "acute": True}],
            current_pain={"score": 3, "character": " Sharp "},
        ),
        today=TODAY,
    )
    assert intake.planned_modality == "deep_tissue"
    assert intake.focus_regions == ("neck",)
    assert intake.red_flags == ("tingling", "numbness")
    assert [c.code for c in intake.conditions] == ["5htp_syndrome", "äöü", "a_b", "asthma"]
    assert intake.conditions[3].acute is True
    assert intake.current_pain.character == "sharp"


def test_a_pain_block_with_only_a_zero_score_means_nothing_to_report():
    assert parse_intake(_intake(current_pain={"score": 0}), today=TODAY).current_pain is None
    pain = parse_intake(_intake(current_pain={"score": 0, "radiating": True}), today=TODAY)
    assert pain.current_pain == CurrentPain(score=0, radiating=True)
