"""Evaluate follow-up answers from JSON with the same pure function the web path uses.

Input (FILE, or stdin by default): one object, an array of objects, or JSON Lines (one object
per line), each `{"baseline_pain": 3, "answers": [{"hours": 24, "score": 5, ...}]}`.
Output: the result object, or an array of results in input order (also for JSON Lines), the
same shapes as `manage.py screen`.

Exit status: 0 all evaluated; 1 some batch items were invalid (each becomes
{"index": i, "error": "<path>: <reason>"}); 2 the input as a whole is unusable (one invalid
object, bad JSON on any line, empty, unreadable, too large). Errors never print a traceback,
so this exits with sys.exit rather than CommandError (which always exits 1).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Any

from django.core.management.base import BaseCommand

from followup.escalation import FollowupInputError, evaluate, parse_followup

MAX_INPUT_BYTES = 5 * 1024 * 1024  # ~ 10,000 visits with three answers each, with room to spare
MAX_BATCH = 10_000

EXIT_OK = 0
EXIT_SOME_INVALID = 1
EXIT_INVALID = 2


class InputError(Exception):
    """Raised when the input as a whole cannot be used."""


@dataclass
class Outcome:
    """What the command prints and how it exits."""

    output: str = ""
    error: str = ""
    status: int = EXIT_OK


class Command(BaseCommand):
    help = "Evaluate follow-up answers (JSON object, array or JSON Lines) against followup_policy."

    # Pure computation: no database, and unrelated system checks must not block it.
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "file", nargs="?", default="-", help="JSON file to read; '-' (default) is stdin."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            raw = _read(options["file"], options.get("stdin"))
            outcome = evaluate_document(raw)
        except InputError as e:
            outcome = Outcome(error=f"error: {e}", status=EXIT_INVALID)
        except Exception as e:
            # The contract is "never a traceback"; a bug still fails loudly, with a non-zero exit.
            outcome = Outcome(
                error=f"error: internal error ({type(e).__name__})", status=EXIT_INVALID
            )
        if outcome.output:
            self.stdout.write(outcome.output)
        if outcome.error:
            self.stderr.write(outcome.error)
        if outcome.status != EXIT_OK:
            sys.exit(outcome.status)


def evaluate_document(raw: bytes) -> Outcome:
    """Parse and evaluate the whole input; return what to print and the exit status."""
    text = _decode(raw)
    if not text.strip():
        raise InputError("input is empty; expected a JSON object, an array or JSON Lines")
    try:
        document = _loads(text)
    except json.JSONDecodeError as e:
        records = _json_lines(text) if e.msg == "Extra data" else None
        if records is None:
            where = f"line {e.lineno} column {e.colno}"
            raise InputError(f"input is not valid JSON: {e.msg} ({where})") from None
        return _evaluate_batch(records)
    except (ValueError, RecursionError) as e:
        raise InputError(f"input is not valid JSON: {_reason(e)}") from None

    if isinstance(document, list):
        return _evaluate_batch(document)
    if not isinstance(document, dict):
        raise InputError("input must be a JSON object or an array of objects")
    try:
        result = _evaluate_one(document)
    except FollowupInputError as e:
        return Outcome(error=f"error: {e}", status=EXIT_INVALID)
    return Outcome(output=json.dumps(result, indent=2))


def _evaluate_one(obj: object) -> dict[str, Any]:
    baseline_pain, answers = parse_followup(obj)
    return evaluate(baseline_pain=baseline_pain, answers=answers).to_dict()


def _evaluate_batch(documents: list[object]) -> Outcome:
    """Evaluate each object of an array or JSON Lines; a bad one becomes an error entry."""
    if len(documents) > MAX_BATCH:
        raise InputError(f"too many items ({len(documents)}); at most {MAX_BATCH} per run")
    items: list[dict[str, Any]] = []
    for index, obj in enumerate(documents):
        try:
            items.append(_evaluate_one(obj))
        except FollowupInputError as e:
            items.append({"index": index, "error": str(e)})
    invalid = any("error" in item for item in items)
    output = json.dumps(items, indent=2)
    return Outcome(output=output, status=EXIT_SOME_INVALID if invalid else EXIT_OK)


def _json_lines(text: str) -> list[object] | None:
    """Split JSON Lines input into objects, or return None when it does not look like it."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    values: list[object] = []
    for number, line in lines:
        try:
            values.append(_loads(line))
        except (ValueError, RecursionError) as e:
            if not values:
                return None  # not JSON Lines after all: report the whole-input JSON error
            raise InputError(f"input is not valid JSON on line {number}: {_reason(e)}") from None
    if len(values) < 2 or not isinstance(values[0], dict):
        return None
    return values


def _loads(text: str) -> object:
    return json.loads(text, parse_constant=_reject_constant)


def _reject_constant(name: str) -> object:
    # Python's json accepts NaN and Infinity; standard JSON (and a pain score) does not.
    raise ValueError(f"{name} is not allowed in JSON")


def _reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} (column {error.colno})"
    if "digits" in str(error):  # Python refuses to convert integers of over 4300 digits
        return "a number has too many digits"
    return str(error)


def _decode(raw: bytes) -> str:
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"input is not valid UTF-8 (byte {e.start})") from None


def _read(path: str, stdin: IO[Any] | None) -> bytes:
    """Read at most MAX_INPUT_BYTES from the file or stdin, refusing anything larger."""
    try:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            raw = getattr(stream, "buffer", stream).read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(MAX_INPUT_BYTES + 1)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        name = "stdin" if path == "-" else repr(path)
        raise InputError(f"cannot read {name}: {getattr(e, 'strerror', None) or e}") from None
    if isinstance(raw, str):  # a text stream passed in by a caller such as call_command
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    return raw
