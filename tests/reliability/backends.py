"""Test-only transports for the fault tests, loaded by the worker subprocesses by dotted path.

`SlowSMTPBackend` is Django's SMTP backend with a pause before each message and a journal
line around it, so a test can strike (SIGKILL, a database reset) while a worker is provably
in the middle of a send and before the SMTP sink has accepted anything:

    EMAIL_BACKEND=tests.reliability.backends.SlowSMTPBackend
    RELIABILITY_SEND_DELAY=0.5            seconds to wait before each message
    RELIABILITY_SEND_JOURNAL=/path/file   "start <pid> <to>" and "done <pid> <to>" lines

`FlakySMSBackend` (in-process) fails the first N sends, temporarily or permanently.
"""

from __future__ import annotations

import os
import time
from typing import ClassVar

from django.core.mail.backends.smtp import EmailBackend

from messaging.channels import LocmemSMSBackend, TransportError


def _journal(event: str, to: str) -> None:
    path = os.environ.get("RELIABILITY_SEND_JOURNAL")
    if not path:
        return
    # O_APPEND: lines from several worker processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{event} {os.getpid()} {to}\n".encode())
    finally:
        os.close(fd)


class SlowSMTPBackend(EmailBackend):
    """Send through SMTP after a pause, writing a journal line before and after each message."""

    def send_messages(self, email_messages) -> int:
        delay = float(os.environ.get("RELIABILITY_SEND_DELAY", "0"))
        sent = 0
        for message in email_messages:
            to = ",".join(message.recipients())
            _journal("start", to)
            time.sleep(delay)
            sent += super().send_messages([message])
            _journal("done", to)
        return sent


class FlakySMSBackend(LocmemSMSBackend):
    """Keep SMS like LocmemSMSBackend, after failing the first `failures` sends."""

    failures: ClassVar[int] = 0
    permanent: ClassVar[bool] = False
    calls: ClassVar[int] = 0

    @classmethod
    def reset(cls, *, failures: int, permanent: bool) -> None:
        cls.failures, cls.permanent, cls.calls = failures, permanent, 0
        cls.outbox.clear()

    def send(self, to: str, body: str) -> None:
        type(self).calls += 1
        if type(self).calls <= self.failures:
            kind = "unknown number" if self.permanent else "gateway busy"
            raise TransportError(kind, permanent=self.permanent)
        super().send(to, body)
