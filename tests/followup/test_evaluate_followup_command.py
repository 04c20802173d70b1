"""Tests for `manage.py evaluate_followup`: the JSON contract, batches and bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from clinical.jsoninput import MAX_INPUT_BYTES
from clinical.jsoninput import MAX_ITEMS as MAX_BATCH

ROOT = Path(__file__).resolve().parents[2]

REVIEW_AT_24 = {
    "escalate": True,
    "level": "review",
    "at_hours": 24,
    "reasons": [{"rule": "R2", "hours": 24}],
}
NO_ESCALATION = {"escalate": False, "level": None, "at_hours": None, "reasons": []}


def answer(**changes):
    item = {"hours": 24, "score": 5, "character": "dull", "radiating": False, "red_flags": []}
    item.update(changes)
    return item


def followup(*answers, baseline_pain=3):
    return {"baseline_pain": baseline_pain, "answers": list(answers)}


@dataclass
class Run:
    status: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)


def run(data: bytes | str | object, *args: str) -> Run:
    """Call the command in-process with data on stdin; return exit status and output."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, bytes):
        data = json.dumps(data).encode("utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("evaluate_followup", *args, stdin=io.BytesIO(data), stdout=out, stderr=err)
        status = 0
    except SystemExit as e:
        status = e.code
    return Run(status, out.getvalue(), err.getvalue())


def run_process(data: bytes, *args: str) -> Run:
    """Run `manage.py evaluate_followup` as a real process, as a clinic's script would."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "evaluate_followup", *args],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


# ---- the contract -----------------------------------------------------------------------------


def test_one_object_prints_the_contract_result():
    result = run(followup(answer()))
    assert (result.status, result.err) == (0, "")
    assert result.json == REVIEW_AT_24


def test_no_escalation_prints_nulls():
    result = run(followup(answer(score=2)))
    assert result.status == 0
    assert result.json == NO_ESCALATION


def test_urgent_red_flag_is_reported_with_its_rule():
    result = run(followup(answer(score=1, red_flags=["numbness"]), baseline_pain=1))
    assert result.json == {
        "escalate": True,
        "level": "urgent",
        "at_hours": 24,
        "reasons": [{"rule": "U1", "hours": 24}],
    }


def test_answers_in_any_order_are_sorted_by_hours():
    answers = [answer(hours=72, score=5), answer(hours=24, score=3), answer(hours=48, score=4)]
    result = run(followup(*answers, baseline_pain=2))
    assert result.json == {
        "escalate": True,
        "level": "urgent",
        "at_hours": 72,
        "reasons": [{"rule": "U4", "hours": 72}, {"rule": "R3", "hours": 72}],
    }


def test_an_array_gives_results_in_the_same_order():
    batch = [followup(answer()), followup(answer(score=2)), followup()]
    result = run(batch)
    assert (result.status, result.err) == (0, "")
    assert result.json == [REVIEW_AT_24, NO_ESCALATION, NO_ESCALATION]


def test_an_empty_array_gives_an_empty_array():
    result = run([])
    assert (result.status, result.json) == (0, [])


def test_a_bad_array_element_becomes_an_indexed_error_and_exits_1():
    batch = [followup(answer()), followup(answer(score=7.5)), "nope", followup(answer())]
    result = run(batch)
    assert result.status == 1
    assert result.json == [
        REVIEW_AT_24,
        {"index": 1, "error": "answers[0].score: must be an integer from 0 to 10"},
        {"index": 2, "error": "must be a JSON object with baseline_pain, answers"},
        REVIEW_AT_24,
    ]


def test_json_lines_give_an_array_of_results_like_the_screen_command():
    lines = [json.dumps(followup(answer())), "", json.dumps(followup(answer(score=2)))]
    result = run("\n".join(lines) + "\n")
    assert (result.status, result.err) == (0, "")
    assert result.json == [REVIEW_AT_24, NO_ESCALATION]


def test_an_invalid_json_line_makes_the_whole_input_unusable():
    lines = [json.dumps(followup(answer())), "", "{oops"]
    result = run("\n".join(lines))
    assert (result.status, result.out) == (2, "")
    assert result.err.startswith("error: input is not valid JSON on line 3: Expecting property")


def test_an_invalid_object_on_a_json_line_becomes_an_indexed_error():
    lines = [json.dumps(followup(answer())), json.dumps(followup(baseline_pain=-1))]
    result = run("\n".join(lines))
    assert result.status == 1
    assert result.json == [
        REVIEW_AT_24,
        {"index": 1, "error": "baseline_pain: must be an integer from 0 to 10"},
    ]


def test_a_broken_multi_line_object_reports_the_json_error_not_json_lines():
    result = run('{\n  "baseline_pain": 3,\n  "answers": [}\n')
    assert result.status == 2
    assert result.err.startswith("error: input is not valid JSON: Expecting value (line 3")


def test_a_file_argument_is_read(tmp_path):
    path = tmp_path / "followup.json"
    path.write_text(json.dumps(followup(answer())), encoding="utf-8")
    result = run(b"", str(path))
    assert (result.status, result.json) == (0, REVIEW_AT_24)


def test_a_byte_order_mark_is_tolerated():
    result = run(b"\xef\xbb\xbf" + json.dumps(followup(answer())).encode())
    assert (result.status, result.json) == (0, REVIEW_AT_24)


def test_unicode_and_markup_in_values_are_reported_escaped():
    result = run(followup(answer(red_flags=["<b>fièvre</b> 🤒"])))
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(
        'error: answers[0].red_flags[0]: unknown red flag "<b>fi\\u00e8vre</b> \\ud83e\\udd12"'
    )


# ---- bad input ---------------------------------------------------------------------------------

BAD_SINGLE = [
    (
        "score_float",
        followup(answer(score=7.5)),
        "answers[0].score: must be an integer from 0 to 10",
    ),
    ("score_string", followup(answer(score="7.5")), "answers[0].score: must be an integer"),
    ("score_bool", followup(answer(score=True)), "answers[0].score: must be an integer"),
    ("score_out_of_range", followup(answer(score=11)), "answers[0].score: must be an integer"),
    ("baseline_negative", followup(baseline_pain=-1), "baseline_pain: must be an integer"),
    ("baseline_missing", {"answers": []}, "baseline_pain: required field is missing"),
    ("answers_missing", {"baseline_pain": 2}, "answers: required field is missing"),
    ("answers_not_list", {"baseline_pain": 2, "answers": "24"}, "answers: must be a list"),
    ("character_missing", followup({"hours": 24, "score": 3}), "answers[0].character: required"),
    ("character_unknown", followup(answer(character="achy")), "answers[0].character: must be"),
    ("radiating_string", followup(answer(radiating="yes")), "answers[0].radiating: must be"),
    ("red_flag_unknown", followup(answer(red_flags=["dizzy"])), "answers[0].red_flags[0]: unk"),
    ("hours_zero", followup(answer(hours=0)), "answers[0].hours: must be a whole number"),
    ("hours_string", followup(answer(hours="24h")), "answers[0].hours: must be a whole number"),
    (
        "hours_duplicated",
        followup(answer(hours=24), answer(hours=24)),
        "answers[1].hours: duplicate check-in at 24 hours (also answers[0])",
    ),
    (
        "too_many_answers",
        followup(*[answer(hours=h) for h in range(1, 12)]),
        "answers: must have at most 10 answers",
    ),
    ("top_level_number", 3, "input must be a JSON object, an array of objects or JSON Lines"),
    ("top_level_string", "hello", "input must be a JSON object, an array of objects or JSON Lines"),
    ("top_level_null", None, "input must be a JSON object, an array of objects or JSON Lines"),
]


@pytest.mark.parametrize(
    ("data", "message"), [c[1:] for c in BAD_SINGLE], ids=[c[0] for c in BAD_SINGLE]
)
def test_a_bad_object_exits_2_naming_path_and_reason(data, message):
    result = run(json.dumps(data))
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(f"error: {message}")
    assert "Traceback" not in result.err


BAD_DOCUMENT = [
    ("empty", b"", "error: input is empty"),
    ("blank", b"  \n\t\n", "error: input is empty"),
    ("not_json", b"hello", "error: input is not valid JSON: Expecting value (line 1, column 1)"),
    ("truncated", b'{"baseline_pain": 3, "answers": [', "error: input is not valid JSON"),
    ("single_quotes", b"{'baseline_pain': 3}", "error: input is not valid JSON"),
    ("trailing_garbage", b'{"baseline_pain": 3, "answers": []} x', "error: input is not valid"),
    ("nul_byte", b'{"baseline_pain": 3,\x00 "answers": []}', "error: input is not valid JSON"),
    ("nul_in_string", b'{"baseline_pain": "\x00"}', "error: input is not valid JSON"),
    ("nan", b'{"baseline_pain": NaN, "answers": []}', "error: input is not valid JSON: NaN"),
    ("infinity", b"[Infinity]", "error: input is not valid JSON: Infinity is not allowed"),
    ("not_utf8", b'{"baseline_pain": "\xff"}', "error: input is not valid UTF-8 (byte 19)"),
    ("utf16", '{"baseline_pain": 3}'.encode("utf-16"), "error: input is not valid UTF-8"),
    ("deep_nesting", b"[" * 100_000, "error: input is not valid JSON"),
    ("huge_number", b'{"baseline_pain": ' + b"9" * 5000 + b"}", "error: input is not valid"),
    ("too_large", b" " * (MAX_INPUT_BYTES + 1), "error: input is larger than 20 MB"),
]


@pytest.mark.parametrize(
    ("data", "message"), [c[1:] for c in BAD_DOCUMENT], ids=[c[0] for c in BAD_DOCUMENT]
)
def test_unusable_input_exits_2_with_a_clear_message(data, message):
    result = run(data)
    assert result.status == 2
    assert result.out == ""
    assert result.err.startswith(message)
    assert len(result.err) < 300


def test_a_batch_over_the_limit_is_refused_as_a_whole():
    result = run([{}] * (MAX_BATCH + 1))
    assert result.status == 2
    assert result.err.startswith(f"error: too many items ({MAX_BATCH + 1})")


def test_a_missing_file_exits_2(tmp_path):
    result = run(b"", str(tmp_path / "nope.json"))
    assert result.status == 2
    assert result.err.startswith("error: cannot read")
    assert "No such file or directory" in result.err


def test_a_directory_exits_2(tmp_path):
    result = run(b"", str(tmp_path))
    assert (result.status, result.err.startswith("error: cannot read")) == (2, True)


# ---- as a real process --------------------------------------------------------------------------


def test_process_reads_stdin_by_default_and_exits_0():
    result = run_process(json.dumps(followup(answer())).encode())
    assert (result.status, result.err) == (0, "")
    assert result.json == REVIEW_AT_24


def test_process_reads_stdin_from_dash_and_prints_a_batch():
    result = run_process(json.dumps([followup(answer()), followup()]).encode(), "-")
    assert result.status == 0
    assert result.json == [REVIEW_AT_24, NO_ESCALATION]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (json.dumps(followup(answer(score=7.5))).encode(), 2, "error: answers[0].score: must be"),
        (json.dumps([followup(answer(score=-1))]).encode(), 1, ""),
        (b"\x00\x00\x00", 2, "error: input is not valid JSON"),
        (b"\xff\xfe\xfd", 2, "error: input is not valid UTF-8"),
        (b"[" * 200_000, 2, "error: input is not valid JSON: nested too deeply"),
        (b"x" * (MAX_INPUT_BYTES + 10), 2, "error: input is larger than 20 MB"),
        (b"", 2, "error: input is empty"),
    ],
    ids=["invalid_object", "invalid_element", "nul", "not_utf8", "deep", "huge", "empty"],
)
def test_process_never_prints_a_traceback(data, status, message):
    result = run_process(data)
    assert result.status == status
    assert "Traceback" not in result.err
    assert result.err.startswith(message)
    assert result.err.count("\n") <= 1


def test_process_reports_an_unreadable_file_without_a_traceback(tmp_path):
    result = run_process(b"", str(tmp_path / "missing.json"))
    assert result.status == 2
    assert result.err.startswith("error: cannot read")
    assert "Traceback" not in result.err


def test_an_internal_bug_exits_2_without_a_traceback(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("followup.management.commands.evaluate_followup.evaluate", broken)
    result = run(followup(answer()))
    assert (result.status, result.out) == (2, "")
    assert result.err == "error: internal error (RuntimeError)\n"
