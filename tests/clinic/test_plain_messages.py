"""The confirmations and warnings staff see after an action (Django messages) are in plain
words: none speaks of the machinery (the tick, a worker, the broker) or shows a code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import timezone

from followup.scheduling import resend_notice
from tests.browser.test_plain_words import CODE

ROOT = Path(__file__).resolve().parents[2]
APPS = ("clinic", "intake", "screening", "followup", "messaging", "staff")
# messages.success(request, ...) and the admin's self.message_user(request, ...); a logger's
# warning() is for the operator, not a person on a page.
MESSAGE_CALLS = {"debug", "info", "success", "warning", "error", "add_message"}
INTERNAL_WORDS = ("tick", "worker", "broker", "celery", "redis", "queue", "dispatch", "lease",
                  "claim", "task", "queryset", "pk", "none", "null", "traceback")  # fmt: skip


def _message_texts() -> list[tuple[str, str]]:
    """Return (where, text) for every string written into a message by the apps' code."""
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                receiver = node.func.value
                to_messages = isinstance(receiver, ast.Name) and receiver.id == "messages"
                if not (
                    (to_messages and node.func.attr in MESSAGE_CALLS)
                    or node.func.attr == "message_user"
                ):
                    continue
                for arg in node.args:
                    for part in ast.walk(arg):
                        if isinstance(part, ast.Constant) and isinstance(part.value, str):
                            where = f"{path.relative_to(ROOT)}:{node.lineno}"
                            found.append((where, part.value))
    return found


def _problems(text: str) -> list[str]:
    words = {word.lower() for word in text.replace("-", " ").split()}
    internal = [w for w in INTERNAL_WORDS if w in {x.strip(".,:;()!?") for x in words}]
    return internal + [m.group(1) for m in CODE.finditer(text)]


def test_the_message_texts_are_found():
    texts = [text for _, text in _message_texts()]
    assert "Escalation acknowledged." in texts
    assert len(texts) > 20


@pytest.mark.parametrize(("where", "text"), _message_texts())
def test_no_message_speaks_of_the_machinery_or_shows_a_code(where, text):
    assert not _problems(text), f"{where}: {text!r}"


def test_the_resend_notice_says_when_in_plain_words(settings, time_machine):
    settings.FOLLOWUP_QUIET_HOURS = (21, 8)
    time_machine.move_to(timezone.make_aware(timezone.datetime(2030, 1, 2, 23, 0)))
    assert resend_notice(2) == (
        "2 check-in(s) will be sent again at 08:00, when the quiet hours end, each with a new link."
    )
    time_machine.move_to(timezone.make_aware(timezone.datetime(2030, 1, 2, 12, 0)))
    notice = resend_notice(1)
    assert notice == "1 check-in(s) will be sent again within a few minutes, each with a new link."
    assert not _problems(notice)
