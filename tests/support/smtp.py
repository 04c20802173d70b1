"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from tests.support.environment import free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted: the envelope recipients and the parsed message."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"] or "")

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """Return the plain-text body (decoded)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"')]+", self.text)


class SinkHandler:
    """aiosmtpd's handler: parse each message and hand it to the sink (subclass to misbehave)."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.sink._add(ReceivedMail(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

    handler_class: type[SinkHandler] = SinkHandler

    def __init__(self, **handler_options) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._lock = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._controller = Controller(
            self.handler_class(self, **handler_options),
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=10,
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, RuntimeError):  # already stopped
            self._controller.stop()

    def _add(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)
            self._lock.notify_all()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def matching(self, predicate: Callable[[ReceivedMail], bool]) -> list[ReceivedMail]:
        return [m for m in self.messages if predicate(m)]

    def wait_for(
        self,
        predicate: Callable[[ReceivedMail], bool] = lambda m: True,
        timeout: float = 30,
        count: int = 1,
    ) -> list[ReceivedMail]:
        """Wait until at least `count` messages match; return the matches (oldest first)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self._messages if predicate(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = [(m.rcpt_tos, m.subject) for m in self._messages]
                    raise AssertionError(
                        f"timed out after {timeout:.0f}s waiting for {count} matching "
                        f"message(s); found {len(found)}; the sink holds {summary}"
                    )
                self._lock.wait(left)

    def describe(self) -> str:
        lines = [f"{len(self.messages)} message(s) at the SMTP sink:"]
        for m in self.messages:
            lines.append(f"  to={list(m.rcpt_tos)} subject={m.subject!r}")
        return "\n".join(lines)
