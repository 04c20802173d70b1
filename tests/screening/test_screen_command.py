from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from django.core.management import call_command

# The command reads the clinic vocabulary from the database.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INTAKE = {"date_of_birth": "1980-05-01", "visit_date": "2026-11-20", "planned_modality": "swedish"}


class Outcome(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: bytes


def _subprocess(*args: str, stdin: str | bytes = "") -> Outcome:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "manage.py", "screen", *args],
        cwd=ROOT,
        input=data,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def run(monkeypatch, capsys):
    """Run `screen` in-process with the given stdin; return exit code, stdout and stderr."""

    def _run(*args: str, stdin: str | bytes = "") -> Outcome:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        capsys.readouterr()
        try:
            call_command("screen", *args)
            code = 0
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return Outcome(code, captured.out.encode(), captured.err.encode())

    return _run


def _intake(**fields):
    return {**INTAKE, **fields}


def test_single_object_from_stdin_prints_the_result_object(run):
    proc = run(stdin=json.dumps(_intake(medications=["warfarin 5 mg"])))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["decision"] == "clearance"
    assert result["flags"][0]["matched"] == ["medication: warfarin 5 mg"]
    assert proc.stdout.decode().startswith('{\n  "decision"')


def test_file_argument_and_dash_both_work(run, tmp_path):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(_intake()), encoding="utf-8")
    assert json.loads(run(str(path)).stdout)["decision"] == "clear"
    assert json.loads(run("-", stdin=json.dumps(_intake())).stdout)["decision"] == "clear"


def test_unicode_is_printed_without_escapes(run):
    proc = run(stdin=json.dumps(_intake(conditions=[{"code": "Rückenweh"}])))
    assert "rückenweh" in proc.stdout.decode()


def test_array_prints_results_in_order_and_errors_in_place(run):
    items = [_intake(), {"visit_date": "2026-11-20"}, _intake(conditions=[{"code": "dvt"}]), 7]
    proc = run(stdin=json.dumps(items))
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert results[0]["decision"] == "clear"
    assert results[1] == {"index": 1, "error": "date_of_birth: is required"}
    assert results[2]["decision"] == "contraindicated"
    assert results[3] == {"index": 3, "error": "intake: must be a JSON object"}


def test_valid_array_exits_zero(run):
    proc = run(stdin=json.dumps([_intake(), _intake()]))
    assert proc.returncode == 0
    assert len(json.loads(proc.stdout)) == 2


def test_json_lines_are_screened_one_per_line(run):
    lines = [json.dumps(_intake()), "", json.dumps(_intake(current_pain={"score": 11}))]
    proc = run(stdin="\n".join(lines) + "\n")
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert results[0]["decision"] == "clear"
    assert results[1] == {
        "index": 1,
        "error": "current_pain.score: must be an integer from 0 to 10",
    }


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            json.dumps(_intake(current_pain={"score": 11})),
            "error: current_pain.score: must be an integer from 0 to 10",
        ),
        (
            json.dumps(_intake(focus_regions=["elbowz"])),
            "error: focus_regions[0]: unknown region 'elbowz'",
        ),
        ("", "error: input is empty"),
        ("   \n", "error: input is empty"),
        ("{not json", "error: input is not valid JSON"),
        ('{"a": 1}\n{oops\n', "error: input is not valid JSON on line 2"),
        ("42", "error: input must be a JSON object"),
        ('"text"', "error: input must be a JSON object"),
        ("[" * 100_000, "error: input is not valid JSON"),
        (b"\xff\xfe{}", "error: input is not valid UTF-8"),
    ],
)
def test_unusable_input_exits_two_with_a_clear_message_and_no_traceback(run, stdin, message):
    proc = run(stdin=stdin)
    assert proc.returncode == 2
    stderr = proc.stderr.decode()
    assert stderr.startswith(message)
    assert "Traceback" not in stderr
    assert proc.stdout == b""


def test_missing_file_exits_two(run):
    proc = run("/nonexistent/intake.json")
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("error: cannot read '/nonexistent/intake.json'")


def test_huge_free_text_is_rejected_cleanly(run):
    proc = run(stdin=json.dumps(_intake(free_text="a" * 100_000)))
    assert proc.returncode == 2
    assert "free_text: too long" in proc.stderr.decode()


def test_nul_in_free_text_is_rejected_cleanly(run):
    proc = run(stdin=json.dumps(_intake(free_text="a\u0000b")))
    assert proc.returncode == 2
    assert "free_text: must not contain NUL" in proc.stderr.decode()


def test_real_process_prints_json_and_exits_zero():
    proc = _subprocess(stdin=json.dumps(_intake(medications=["warfarin 5 mg"])))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["decision"] == "clearance"


def test_real_process_exits_two_without_a_traceback_on_bad_input():
    proc = _subprocess(stdin="[" * 100_000)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("error: input is not valid JSON")
    assert "Traceback" not in proc.stderr.decode()


def test_review_items_mentions_and_tiers_in_the_spec_shape(run):
    intake = _intake(
        conditions=[{"code": "pacemaker"}, {"code": "epilepsy"}],
        free_text="Mother had osteoporosis.",
    )
    out = run(stdin=json.dumps(intake))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["decision"] == "clearance"
    heart, review = result["flags"]
    assert (heart["code"], heart["tier"]) == ("heart_disease", "supplementary")
    assert heart["sources"][0]["doc"].startswith("https://")
    assert review == {
        "code": "unrecognised",
        "severity": "review",
        "title": "Not understood by the screener",
        "matched": ["conditions[1]: epilepsy"],
        "actions": [
            "Say which rule this is, or record why it does not matter for massage, "
            "before completing."
        ],
        "avoid_modalities": [],
        "avoid_regions": [],
        "sources": [],
        "tier": "seed",
        "suggestions": review["suggestions"],
    }
    assert result["unmatched_conditions"] == ["epilepsy"]
    assert result["mentions_not_counted"] == [
        {
            "code": "osteoporosis",
            "text": "Mother had osteoporosis.",
            "field": "free_text",
            "reason": "family",
        }
    ]


def test_with_the_supplementary_tier_off_its_conditions_are_review(run, settings):
    settings.SCREENING_SUPPLEMENTARY = False
    out = run(stdin=json.dumps(_intake(conditions=[{"code": "pacemaker"}])))
    result = json.loads(out.stdout)
    assert result["decision"] == "review"
    assert result["flags"][0]["suggestions"] == ["heart_disease"]
