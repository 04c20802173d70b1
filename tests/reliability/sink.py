"""The fault tests' mail server: the real aiosmtpd sink, accepting every message at once, that
can hold back its "250 accepted" reply to one chosen message.

A held message is delivered (the sink keeps it as soon as its data arrived, as a real server
commits a message before replying), but the worker that sent it is left waiting for the
reply: provably in the middle of a batch, after a message went out and before it could
record it. `wait_held()` is the signal a test strikes on; `release()` lets the reply go.
"""

from __future__ import annotations

import asyncio
import threading

from tests.support.smtp import ReceivedMail, SinkHandler, SmtpSink

# A held reply is released after this long even if the test never says so (a failed test
# must not leave a server thread waiting).
HOLD_LIMIT = 60.0


class HoldingSinkHandler(SinkHandler):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        reply = await super().handle_DATA(server, session, envelope)
        release = self.sink._hold_this_one()
        if release is not None:
            await asyncio.to_thread(release.wait, HOLD_LIMIT)
        return reply


class HoldingSink(SmtpSink):
    """An SmtpSink that accepts at once, except the one reply a test asked it to hold."""

    handler_class = HoldingSinkHandler

    def __init__(self, **handler_options) -> None:
        super().__init__(**handler_options)
        self._hold_at: int | None = None
        self._held = threading.Event()
        self._release = threading.Event()
        self.held_mail: ReceivedMail | None = None

    def hold(self, *, after: int) -> None:
        """Hold the reply to the message that arrives after `after` more messages."""
        with self._lock:
            self._hold_at = len(self._messages) + after + 1
            self._held.clear()
            self._release = threading.Event()
            self.held_mail = None

    def _hold_this_one(self) -> threading.Event | None:
        with self._lock:
            if self._hold_at is None or len(self._messages) < self._hold_at:
                return None
            self._hold_at = None
            self.held_mail = self._messages[-1]
            self._held.set()
            return self._release

    def wait_held(self, timeout: float = 60) -> ReceivedMail:
        """Wait until a message is delivered and its reply held; return that message."""
        if not self._held.wait(timeout):
            raise AssertionError(f"no message reached the held reply within {timeout:.0f} s")
        assert self.held_mail is not None
        return self.held_mail

    def release(self) -> None:
        """Let the held reply go (to a worker that may be dead by now)."""
        with self._lock:
            self._hold_at = None
        self._release.set()

    @property
    def holding(self) -> bool:
        return self._held.is_set() and not self._release.is_set()

    def stop(self) -> None:
        self.release()
        super().stop()
