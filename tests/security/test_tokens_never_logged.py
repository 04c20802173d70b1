"""Link tokens never reach a log line: every handler scrubs them (clinic.scrub), and every
token route is covered by the scrubbing. The whole flow under gunicorn, Celery and SMTP is
tests/integration/test_tokens_not_logged.py."""

from __future__ import annotations

import io
import logging
import re
import secrets

import pytest
from celery import signals
from django.test import Client as WebClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.scrub import (
    REDACTED,
    TOKEN_URL_PREFIXES,
    WITHHELD,
    ScrubFilter,
    scrub_tokens,
)

TOKEN = secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    "line",
    [
        f"/f/{TOKEN}/",
        f"/f/{TOKEN}/opt-out/",
        f"Not Found: /f/{TOKEN}/",
        f'127.0.0.1 - - [01/Dec/2026] "GET /f/{TOKEN}/?utm=x HTTP/1.1" 404 1234',
        f"https://clinic.example/f/{TOKEN}/",
        f"link: https://clinic.example/f/{TOKEN}",
        f'"POST /f/{TOKEN}/opt-out/ HTTP/1.1" 200',
    ],
    # Ids without the random token: every test process collects the same tests.
    ids=["path", "opt-out", "not-found", "access-log", "url", "url-in-text", "quoted-request"],
)
def test_the_token_of_every_link_path_is_scrubbed(line):
    scrubbed = scrub_tokens(line)
    assert TOKEN not in scrubbed
    assert f"/f/{REDACTED}" in scrubbed


def test_other_paths_are_left_alone():
    line = "GET /followup/escalations/?status=open HTTP/1.1"
    assert scrub_tokens(line) == line


def _token_routes() -> list[str]:
    """Return every URL route (with its include prefixes) that takes a token."""
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and "token" in pattern.pattern.converters:
                routes.append("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_route_with_a_token_is_under_a_scrubbed_prefix():
    routes = _token_routes()
    assert routes, "no token route found: the walk is broken"
    for route in routes:
        assert route.startswith(TOKEN_URL_PREFIXES), (
            f"{route} carries a token but is not under clinic.scrub.TOKEN_URL_PREFIXES"
        )


def _configured_handlers() -> list[logging.Handler]:
    """Return the handlers the app's logging configuration installed (not pytest's)."""
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    handlers = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if type(handler).__module__.startswith("_pytest") or isinstance(
                handler, logging.NullHandler
            ):
                continue  # pytest's capture; libraries' handlers that write nothing
            handlers.append(handler)
    return handlers


def test_every_configured_handler_scrubs():
    handlers = _configured_handlers()
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, ScrubFilter) for f in handler.filters), handler
    # runserver's request log ("django.server") and Django's own loggers have no handler
    # of their own: they reach the root's, which scrubs.
    for name in ("django", "django.server", "django.request"):
        logger = logging.getLogger(name)
        assert not logger.handlers and logger.propagate, name


def test_celery_handlers_get_the_filter_when_celery_sets_up_logging():
    logger = logging.getLogger("celery.test.scrub")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        signals.after_setup_logger.send(
            sender=None,
            logger=logger,
            loglevel=logging.INFO,
            logfile=None,
            format="",
            colorize=False,
        )
        assert any(isinstance(f, ScrubFilter) for f in handler.filters)
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def root_output():
    """What the app's root handler writes, in a string (the real handler, its real filter)."""
    handler = next(h for h in logging.getLogger().handlers if any(
        isinstance(f, ScrubFilter) for f in h.filters))  # fmt: skip
    stream = io.StringIO()
    saved = handler.setStream(stream)
    yield stream
    handler.setStream(saved)


@pytest.mark.django_db
def test_a_request_for_a_link_logs_no_token(root_output, settings):
    settings.DEBUG = False
    web = WebClient()
    assert web.get(f"/f/{TOKEN}/").status_code == 404
    assert web.get(reverse("followup:opt_out", args=[TOKEN])).status_code == 404
    logged = root_output.getvalue()
    assert "Not Found: /f/[token]/" in logged  # the warning is there, scrubbed
    assert TOKEN not in logged


def test_a_traceback_keeps_its_frames_but_not_its_message_nor_a_token(root_output):
    logger = logging.getLogger("clinic.test")
    # (The messages are built away from the raise lines: a traceback quotes its source lines.)
    inner = f"pregnancy.due_date: 2027-05-01 at /f/{TOKEN}/"
    outer = "could not book for a herniated disc"
    try:
        try:
            raise ValueError(inner)
        except ValueError as exc:
            raise RuntimeError(outer) from exc
    except RuntimeError:
        logger.exception("booking failed for /f/%s/", TOKEN)
    logged = root_output.getvalue()
    assert "booking failed for /f/[token]/" in logged
    assert "test_tokens_never_logged.py" in logged  # the frames are kept
    assert f"builtins.RuntimeError: {WITHHELD}" in logged
    assert f"builtins.ValueError: {WITHHELD}" in logged
    for secret in (TOKEN, "2027-05-01", "herniated", "due_date"):
        assert secret not in logged
    assert not re.search(r"Error: (?!\(message withheld)", logged)
