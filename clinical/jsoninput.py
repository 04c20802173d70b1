"""Read the JSON documents the commands take: one object, an array of objects, or JSON Lines.

The one reader for `manage.py screen`, `evaluate_followup` and `import_intakes`, so they
agree on what they accept: at most MAX_INPUT_BYTES of UTF-8 (a byte-order mark tolerated),
at most MAX_ITEMS objects, standard JSON only (NaN and Infinity refused: no pain score or
date is ever one), and an error that says where the input went wrong.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Any

MAX_INPUT_BYTES = 20 * 1024 * 1024  # 20 MB: some 20,000 intakes with free text
MAX_ITEMS = 20_000


class JSONInputError(Exception):
    """Raise when the input as a whole cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Documents:
    """The decoded input: its objects, and whether it was a list (an array or JSON Lines)."""

    items: list[Any]
    many: bool


def read_documents(path: str, stdin: IO[Any] | None = None) -> Documents:
    """Read FILE (or stdin for '-') and decode it as one object, an array or JSON Lines."""
    return parse_documents(read_bytes(path, stdin))


def read_bytes(path: str, stdin: IO[Any] | None = None) -> bytes:
    """Return at most MAX_INPUT_BYTES from the file or stdin, refusing anything larger."""
    name = "stdin" if path == "-" else repr(path)
    try:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            raw = getattr(stream, "buffer", stream).read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(MAX_INPUT_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise JSONInputError(
            f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if isinstance(raw, str):  # a text stream passed in by a caller such as call_command
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_INPUT_BYTES:
        raise JSONInputError(f"input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    return raw


def parse_documents(raw: bytes) -> Documents:
    """Decode bytes as one JSON object, an array, or JSON Lines (one value per line)."""
    try:
        # utf-8-sig: tolerate the byte-order mark some Windows editors write.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JSONInputError(f"input is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise JSONInputError("input is empty; expected a JSON object, an array or JSON Lines")
    try:
        document = loads(text)
    except json.JSONDecodeError as exc:
        lines = _json_lines(text) if exc.msg == "Extra data" else None
        if lines is None:
            raise JSONInputError(f"input is not valid JSON: {_reason(exc)}") from None
        return _documents(lines, many=True)
    except (ValueError, RecursionError) as exc:
        raise JSONInputError(f"input is not valid JSON: {_reason(exc)}") from None
    if isinstance(document, dict):
        return Documents([document], many=False)
    if isinstance(document, list):
        return _documents(document, many=True)
    raise JSONInputError("input must be a JSON object, an array of objects or JSON Lines")


def loads(text: str | bytes) -> Any:
    """Decode one JSON value, refusing NaN and Infinity (Python's json accepts them)."""
    return json.loads(text, parse_constant=_reject_constant)


def _documents(items: list[Any], *, many: bool) -> Documents:
    if len(items) > MAX_ITEMS:
        raise JSONInputError(f"too many items ({len(items)}); at most {MAX_ITEMS} per run")
    return Documents(items, many)


def _json_lines(text: str) -> list[Any] | None:
    """Split JSON Lines into values, or return None when the input does not look like it."""
    values: list[Any] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values.append(loads(line))
        except (ValueError, RecursionError) as exc:
            if not values:
                return None  # not JSON Lines after all: report the whole-input JSON error
            raise JSONInputError(
                f"input is not valid JSON on line {number}: {_reason(exc)}"
            ) from None
    if len(values) < 2 or not isinstance(values[0], dict):
        return None
    return values


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    if "digits" in str(exc):  # Python refuses to convert integers of over 4300 digits
        return "a number has too many digits"
    return str(exc)
