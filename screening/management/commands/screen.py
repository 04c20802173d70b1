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
from screening.engine import screen
from screening.services import current_catalogue

MAX_INPUT_BYTES = 50 * 1024 * 1024


class InputError(Exception):
    """Raise when the input as a whole cannot be used."""


class Command(BaseCommand):
    help = "Screen intake JSON (object, array or JSON Lines) from FILE or stdin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", default="-", help="intake JSON file, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            status = self._run(options["file"])
        except InputError as exc:
            status = _fail(str(exc))
        except CatalogueError as exc:
            status = _fail(f"the screening catalogue is invalid: {exc}")
        except Exception as exc:  # noqa: BLE001 - the contract is "never a traceback"
            status = _fail(f"unexpected {type(exc).__name__}")
        if status:
            sys.exit(status)

    def _run(self, path: str) -> int:
        intakes, many = _decode(_read(path))
        results: list[dict[str, Any]] = []
        status = 0
        catalogue = _catalogue()
        for index, obj in enumerate(intakes):
            try:
                results.append(screen(parse_intake(obj), catalogue).to_dict())
            except IntakeError as exc:
                if not many:
                    return _fail(str(exc))
                results.append({"index": index, "error": str(exc)})
                status = 1
        output = results if many else results[0]
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


def _read(path: str) -> str:
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(MAX_INPUT_BYTES + 1) if stream else sys.stdin.read().encode()
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"input larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("input is not valid UTF-8") from None


def _decode(text: str) -> tuple[list[Any], bool]:
    """Return (intakes, many): one object, an array, or JSON Lines."""
    if not text.strip():
        raise InputError("empty input (expected a JSON object, an array or JSON Lines)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise InputError(f"invalid JSON: {_reason(exc)}") from None
        return [_decode_line(n, line) for n, line in lines], True
    if isinstance(value, dict):
        return [value], False
    if isinstance(value, list):
        return value, True
    raise InputError("input must be a JSON object, an array of objects or JSON Lines")


def _decode_line(number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON on line {number}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)
