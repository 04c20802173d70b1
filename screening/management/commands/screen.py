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

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from clinical.catalogue import Catalogue, CatalogueError, get_catalogue
from clinical.intake import IntakeError, parse_intake
from clinical.jsoninput import JSONInputError, read_documents
from screening.engine import screen
from screening.services import current_catalogue


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
        catalogue = _catalogue()
        for index, obj in enumerate(documents.items):
            try:
                results.append(screen(parse_intake(obj), catalogue).to_dict())
            except IntakeError as exc:
                if not documents.many:
                    return _fail(str(exc))
                results.append({"index": index, "error": str(exc)})
                status = 1
        output = results if documents.many else results[0]
        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))
        return status


def _catalogue() -> Catalogue:
    """Return the clinic's catalogue: both tiers unless SCREENING_SUPPLEMENTARY is off, and
    its own vocabulary terms (without them, saying so, if the database cannot be read)."""
    try:
        return current_catalogue()
    except DatabaseError:
        sys.stderr.write("warning: the clinic vocabulary could not be read; screened without it\n")
        return get_catalogue(supplementary=settings.SCREENING_SUPPLEMENTARY)


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2
