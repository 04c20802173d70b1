"""Test-only transports for the fault tests.

`FlakySMSBackend` (in-process) fails the first N sends, temporarily or permanently. Email
goes to a real SMTP server, the sink of tests.reliability.sink.
"""

from __future__ import annotations

from typing import ClassVar

from messaging.channels import LocmemSMSBackend, TransportError


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
