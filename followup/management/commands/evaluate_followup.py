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
from typing import Any

from django.core.management.base import BaseCommand

from clinical.jsoninput import Documents, JSONInputError, read_documents
from followup.escalation import FollowupInputError, evaluate, parse_followup

EXIT_OK = 0
EXIT_SOME_INVALID = 1
EXIT_INVALID = 2


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
            outcome = evaluate_documents(read_documents(options["file"], options.get("stdin")))
        except JSONInputError as e:
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


def evaluate_documents(documents: Documents) -> Outcome:
    """Evaluate the decoded input; return what to print and the exit status."""
    if documents.many:
        return _evaluate_batch(documents.items)
    try:
        result = _evaluate_one(documents.items[0])
    except FollowupInputError as e:
        return Outcome(error=f"error: {e}", status=EXIT_INVALID)
    return Outcome(output=json.dumps(result, indent=2))


def _evaluate_one(obj: object) -> dict[str, Any]:
    baseline_pain, answers = parse_followup(obj)
    return evaluate(baseline_pain=baseline_pain, answers=answers).to_dict()


def _evaluate_batch(documents: list[object]) -> Outcome:
    """Evaluate each object of an array or JSON Lines; a bad one becomes an error entry."""
    items: list[dict[str, Any]] = []
    for index, obj in enumerate(documents):
        try:
            items.append(_evaluate_one(obj))
        except FollowupInputError as e:
            items.append({"index": index, "error": str(e)})
    invalid = any("error" in item for item in items)
    output = json.dumps(items, indent=2)
    return Outcome(output=output, status=EXIT_SOME_INVALID if invalid else EXIT_OK)
