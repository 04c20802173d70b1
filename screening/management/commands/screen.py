"""Screen intake JSON from a file or stdin and print the result as JSON.

Input: one JSON object, a JSON array of objects, or JSON Lines (one object per line).
Output: the result object, or an array of results in input order.

Exit status: 0 all screened; 1 some elements of an array/JSONL were invalid (each shown as
{"index": i, "error": "<path>: <reason>"}); 2 the input as a whole is unusable (unreadable,
empty, invalid JSON, not an object, or a single invalid intake). Never a traceback: the
command exits through sys.exit, because CommandError would always exit 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from clinical.catalogue import CatalogueError
from clinical.intake import IntakeError, parse_intake
from clinical.jsoninput import JSONInputError, read_documents
from screening.engine import screen


class Command(BaseCommand):
    help = "Screen intake JSON (object, array or JSON Lines) from FILE or stdin."

    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", default="-", help="intake JSON file, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = self._run(options["file"], options.get("stdin"))
        except JSONInputError as exc:
            status = _fail(str(exc))
        except CatalogueError as exc:
            status = _fail(f"the screening catalogue is invalid: {exc}")
        except Exception as exc:  # noqa: BLE001 - the contract is "never a traceback"
            status = _fail(f"unexpected {type(exc).__name__}")
        if status:
            sys.exit(status)

    def _run(self, path: str, stdin: Any) -> int:
        documents = read_documents(path, stdin)
        results: list[dict[str, Any]] = []
        status = 0
        for index, obj in enumerate(documents.items):
            try:
                results.append(screen(parse_intake(obj)).to_dict())
            except IntakeError as exc:
                if not documents.many:
                    return _fail(str(exc))
                results.append({"index": index, "error": str(exc)})
                status = 1
        output = results if documents.many else results[0]
        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))
        return status


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2
