"""The intake contract's errors on the forms: a code for each, a translated message for each
code, and the English reason the `screen` command prints unchanged."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

import clinical.intake
import intake.services
from clinical.intake import IntakeError, parse_intake, parse_intake_json
from intake.i18n import INTAKE_ERRORS, intake_error_message
from intake.services import check_intake_for_record
from tests.intake.pseudo_locale import OPEN, pseudo_language

TODAY = dt.date(2026, 11, 22)


def _intake(**fields) -> dict:
    """Return a valid intake with `fields` replaced (None drops a key)."""
    data = {
        "date_of_birth": "1980-05-01",
        "visit_date": "2026-11-20",
        "planned_modality": "swedish",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# (code, bad input, path, the start of the English reason the contract has always given). A
# string is read as JSON text; the last three pass the contract and are refused for a record.
BAD_INPUTS = [
    ("invalid_json", "{not json", "intake", "invalid JSON (Expecting property name"),
    ("not_an_object", [], "intake", "must be a JSON object"),
    (
        "born_after_visit",
        _intake(date_of_birth="2026-11-21"),
        "date_of_birth",
        "must not be after the visit date",
    ),
    (
        "in_the_future",
        _intake(date_of_birth="2027-01-01", visit_date="2027-06-01"),
        "date_of_birth",
        "must not be in the future",
    ),
    (
        "too_old",
        _intake(date_of_birth="1900-01-01"),
        "date_of_birth",
        "more than 120 years before the visit",
    ),
    ("required", _intake(visit_date=None), "visit_date", "is required"),
    (
        "date_format",
        _intake(visit_date="20-11-2026"),
        "visit_date",
        "must be a date in YYYY-MM-DD format",
    ),
    (
        "invalid_date",
        _intake(visit_date="2026-02-30"),
        "visit_date",
        "'2026-02-30' is not a valid date",
    ),
    (
        "not_true_or_false",
        _intake(conditions=[{"code": "asthma", "acute": "yes"}]),
        "conditions[0].acute",
        "must be true or false",
    ),
    ("not_a_string", _intake(medications=[5]), "medications[0]", "must be a string"),
    (
        "too_long",
        _intake(medications=["x" * 501]),
        "medications[0]",
        "too long (501 characters, at most 500)",
    ),
    (
        "control_characters",
        _intake(free_text="a\x00b"),
        "free_text",
        "must not contain NUL or other control characters",
    ),
    ("empty", _intake(allergies=["  "]), "allergies[0]", "must not be empty"),
    ("not_a_list", _intake(medications="aspirin"), "medications", "must be a list"),
    (
        "too_many_items",
        _intake(allergies=["latex"] * 51),
        "allergies",
        "too many items (51, at most 50)",
    ),
    (
        "unknown_modality",
        _intake(planned_modality="hot stones"),
        "planned_modality",
        "unknown modality 'hot stones' (known: swedish, deep_tissue, sports, thai, acupressure,"
        " tonic, manual_therapy, relaxing, aromatherapy)",
    ),
    (
        "unknown_region",
        _intake(focus_regions=["tail"]),
        "focus_regions[0]",
        "unknown region 'tail' (known: head, neck, shoulders, upper_back,",
    ),
    (
        "unknown_red_flag",
        _intake(red_flags=["dizziness"]),
        "red_flags[0]",
        "unknown red flag 'dizziness' (known: numbness, tingling, limb_weakness,"
        " bowel_bladder_dysfunction, fever)",
    ),
    ("not_a_condition", _intake(conditions=[5]), "conditions[0]", "must be an object with a code"),
    (
        "out_of_range",
        _intake(current_pain={"score": 11}),
        "current_pain.score",
        "must be an integer from 0 to 10",
    ),
    (
        "weeks_out_of_range",
        _intake(pregnancy={"pregnant": True, "weeks": 50}),
        "pregnancy.weeks",
        "must be a whole number of weeks from 0 to 45",
    ),
    ("not_an_object_or_null", _intake(pregnancy="yes"), "pregnancy", "must be an object or null"),
    (
        "due_date_too_far",
        _intake(pregnancy={"pregnant": True, "due_date": "2028-01-01"}),
        "pregnancy.due_date",
        "more than 40 weeks after the visit date",
    ),
    (
        "not_one_of",
        _intake(current_pain={"score": 3, "character": "burning"}),
        "current_pain.character",
        "must be one of dull|sharp|throbbing|stiffness|none",
    ),
    (
        "due_date_passed",
        _intake(pregnancy={"pregnant": True, "due_date": "2026-01-01"}),
        "pregnancy.due_date",
        "is before the visit date (in the past)",
    ),
    (
        "recovered_after_visit",
        _intake(recent_illness={"name": "flu", "recovered_on": "2026-11-21"}),
        "recent_illness.recovered_on",
        "is after the visit date",
    ),
    (
        "not_pregnant",
        _intake(pregnancy={"pregnant": False, "weeks": 12}),
        "pregnancy.pregnant",
        "weeks or a due date given but not pregnant",
    ),
]
CODES = [case[0] for case in BAD_INPUTS]
SOURCES = [Path(clinical.intake.__file__), Path(intake.services.__file__)]


def _error(bad) -> IntakeError:
    with pytest.raises(IntakeError) as excinfo:
        if isinstance(bad, str):
            parse_intake_json(bad, today=TODAY)
        else:
            check_intake_for_record(parse_intake(bad, today=TODAY))
    return excinfo.value


def _english_message(exc: IntakeError) -> str:
    """Return the message the forms showed before they were translated."""
    if exc.path == "date_of_birth":
        return f"The client's date of birth {exc.reason}; correct it on the client record."
    line = re.search(r"\[(\d+)\]", exc.path)
    if line and exc.path.split("[")[0] in ("medications", "allergies"):
        return f"Line {int(line.group(1)) + 1}: {exc.reason}."
    return f"{exc.reason[:1].upper()}{exc.reason[1:]}."


def _raises(path: Path) -> list[ast.Call]:
    """Return each `raise IntakeError(...)` of a module."""
    return [
        node.exc
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", None) == "IntakeError"
    ]


def _codes_in_source(path: Path) -> set[str]:
    """Return every error code written in a module (`code="..."`, also passed to helpers)."""
    return {
        keyword.value.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "code" and isinstance(keyword.value, ast.Constant)
    }


@pytest.mark.parametrize(("code", "bad", "path", "reason"), BAD_INPUTS, ids=CODES)
def test_each_bad_input_raises_its_code_with_the_reason_it_always_had(code, bad, path, reason):
    exc = _error(bad)
    assert (exc.path, exc.code) == (path, code)
    assert exc.reason.startswith(reason)
    assert str(exc) == f"{path}: {exc.reason}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_raise_of_the_contract_gives_a_code(source):
    raises = _raises(source)
    assert raises
    assert [call for call in raises if "code" not in {k.arg for k in call.keywords}] == []


def test_every_code_in_the_source_has_a_bad_input_and_a_form_message():
    codes = set().union(*(_codes_in_source(source) for source in SOURCES))
    assert codes == {code for code, _bad, _path, _reason in BAD_INPUTS}
    assert codes == set(INTAKE_ERRORS)


@pytest.mark.parametrize(("code", "bad", "path", "reason"), BAD_INPUTS, ids=CODES)
def test_the_form_message_in_english_reads_as_before(code, bad, path, reason):
    exc = _error(bad)
    assert intake_error_message(exc) == _english_message(exc)


@pytest.mark.parametrize(("code", "bad", "path", "reason"), BAD_INPUTS, ids=CODES)
def test_the_form_message_of_each_code_is_translated(code, bad, path, reason):
    exc = _error(bad)
    with pseudo_language():
        message = intake_error_message(exc)
    for value in exc.params.values():
        message = message.replace(str(value), "")
    assert message.count(OPEN) == 2  # the sentence around it, and the reason itself
    assert not re.search(r"[A-Za-z]", message), message


def test_an_error_without_a_code_keeps_its_english_reason():
    exc = IntakeError("signed_at", "must not be in the future")
    assert intake_error_message(exc) == "Must not be in the future."
