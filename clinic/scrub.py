"""Keep link tokens and health text out of every log line.

A client's link token is a credential: whoever reads it in a log can answer or opt out in
the client's name. `scrub_tokens` replaces the token part of every link path listed in
TOKEN_URL_PREFIXES; `ScrubFilter` applies it to every record of every handler (Django's,
Celery's and gunicorn's, see clinic.settings, clinic.celery and clinic.gunicorn_logging),
and withholds exception messages from logged tracebacks: an exception's text may quote
what it was given (a date, a condition), while its type and the frames are what an operator
needs.

No Django imports: gunicorn's master process loads this before Django is set up.
"""

from __future__ import annotations

import logging
import re
import traceback

# Every URL path prefix followed by a link token. A new kind of link adds its prefix here
# (one line); tests/security/test_tokens_never_logged.py fails for a token route not listed.
TOKEN_URL_PREFIXES: tuple[str, ...] = ("/f/", "/i/")

REDACTED = "[token]"
WITHHELD = "(message withheld from the log)"

_TOKEN_PATHS = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in TOKEN_URL_PREFIXES) + r")[^/\s?#\"'<>]+"
)


def scrub_tokens(text: str) -> str:
    """Return `text` with the token of every link path under TOKEN_URL_PREFIXES replaced."""
    if not text or not any(prefix in text for prefix in TOKEN_URL_PREFIXES):
        return text
    return _TOKEN_PATHS.sub(lambda m: m.group(1) + REDACTED, text)


def format_exception_without_messages(exc: BaseException) -> str:
    """Return a traceback of `exc` (and its causes) with frames and types but no messages."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = type(exc)
        frames = "".join(traceback.format_tb(exc.__traceback__))
        parts.append(
            f"Traceback (most recent call last):\n{frames}"
            f"{kind.__module__}.{kind.__qualname__}: {WITHHELD}"
        )
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nWhile handling the exception above, another was raised:\n\n".join(reversed(parts))


class ScrubFilter(logging.Filter):
    """Scrub link tokens from a record and withhold its exception's message; never drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_tokens(message)
        if scrubbed is not message or record.args:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub_tokens(format_exception_without_messages(record.exc_info[1]))
        elif record.exc_text:
            record.exc_text = scrub_tokens(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_tokens(record.stack_info)
        return True


def add_filter_to_handlers(logger: logging.Logger) -> None:
    """Put a ScrubFilter on every handler of `logger` that has none yet."""
    for handler in logger.handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
