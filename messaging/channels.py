"""Delivery channels: email through Django's email backends, SMS through small backends.

Every channel has one `send()` that either returns or raises `TransportError`, which says
whether trying again could help (`permanent`). `notify()` is the one notification layer every
app sends through: it sends a `Notice` over the chosen channels and reports what happened per
channel, never raising for a transport failure. Retrying is the caller's job (the rows being
sent remember their attempts: messaging.sending, and the alerts' own rows).

Messages passed through here carry no health data (their builders take links only, see
followup/messages.py), so backends may log or store their bodies.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

EMAIL = "email"
SMS = "sms"
CHANNELS = (EMAIL, SMS)
MAX_ERROR_LENGTH = 300


class TransportError(Exception):
    """A channel could not deliver; `permanent` says that retrying will not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent

    def __str__(self) -> str:
        kind = "permanent" if self.permanent else "temporary"
        return f"{kind}: {self.args[0]}"[:MAX_ERROR_LENGTH]


# ---- email -------------------------------------------------------------------------------


class OutboxEmailBackend(BaseEmailBackend):
    """Store each email as an OutboxMessage (the development outbox, EMAIL_URL=outbox:)."""

    def send_messages(self, email_messages) -> int:
        from messaging.models import OutboxMessage

        count = 0
        for message in email_messages:
            for recipient in message.recipients():
                OutboxMessage.objects.create(
                    channel=EMAIL, to=recipient, subject=message.subject, body=message.body
                )
            count += 1
        return count


class EmailChannel:
    """Send one plain-text email through settings.EMAIL_BACKEND (SMTP, anymail, outbox...).

    With `connection` (see `email_connection()`), messages share one open backend connection
    instead of opening one each; after a failure it is closed, and the next send reopens it.
    """

    def __init__(self, connection: BaseEmailBackend | None = None) -> None:
        self.connection = connection

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage(subject=subject, body=body, to=[to], connection=self.connection)
        try:
            if self.connection is not None:
                self.connection.open()  # no-op while open; reconnects after a failure
            accepted = message.send(fail_silently=False)
        except Exception as exc:
            self._drop_connection()
            raise _email_transport_error(exc) from exc
        if not accepted:
            raise TransportError("the email backend accepted no message", permanent=False)

    def _drop_connection(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.close()
        except Exception:
            logger.debug("closing the email connection failed", exc_info=True)


@contextlib.contextmanager
def email_connection() -> Iterator[BaseEmailBackend]:
    """Yield one email backend connection for a batch of sends, closed at the end.

    Opening is left to the first send, so a mail server that is down fails each message as a
    transport error (retried per row), never the whole batch.
    """
    connection = get_connection(fail_silently=False)
    try:
        yield connection
    finally:
        EmailChannel(connection)._drop_connection()


def _email_transport_error(exc: Exception) -> TransportError:
    """Classify an email backend's exception: a refused address is permanent, the rest not."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return TransportError("the mail server refused the recipient", permanent=True)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Our credentials, not the recipient: an operator fixes it and the retry succeeds.
        return TransportError("the mail server refused our login", permanent=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = 500 <= exc.smtp_code < 600
        return TransportError(f"the mail server answered {exc.smtp_code}", permanent=permanent)
    if isinstance(exc, (smtplib.SMTPException, socket.timeout, ConnectionError, OSError)):
        return TransportError(f"could not reach the mail server ({name})", permanent=False)
    status = getattr(exc, "status_code", None)  # anymail's AnymailAPIError
    if name == "AnymailRecipientsRefused":
        return TransportError("the email provider refused the recipient", permanent=True)
    if isinstance(status, int):
        permanent = 400 <= status < 500 and status not in (408, 429)
        return TransportError(f"the email provider answered {status}", permanent=permanent)
    if isinstance(exc, ValueError):  # a malformed address or header
        return TransportError(f"the email could not be built ({name})", permanent=True)
    return TransportError(f"the email backend failed ({name})", permanent=False)


# ---- SMS ---------------------------------------------------------------------------------


class ConsoleSMSBackend:
    """Write each SMS to stdout (development). Bodies hold no health data, so printing is fine."""

    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()


class LocmemSMSBackend:
    """Keep each SMS in the class-level `outbox` list, like Django's locmem email backend."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, body: str) -> None:
        self.outbox.append((to, body))


class OutboxSMSBackend:
    """Store each SMS as an OutboxMessage (the development outbox)."""

    def send(self, to: str, body: str) -> None:
        from messaging.models import OutboxMessage

        OutboxMessage.objects.create(channel=SMS, to=to, body=body)


class TwilioSMSBackend:
    """Send through Twilio (the optional `twilio` extra) with TWILIO_* settings."""

    def __init__(self) -> None:
        try:
            from twilio.rest import Client
        except ImportError as exc:
            raise ImproperlyConfigured(
                "SMS_BACKEND=twilio needs the twilio package: pip install 'clinic[twilio]'"
            ) from exc
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise ImproperlyConfigured(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def send(self, to: str, body: str) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            self.client.messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
        except TwilioRestException as exc:
            # 4xx: a bad or unreachable number, which no retry fixes; 429 and 5xx: try later.
            status = exc.status or 0
            permanent = 400 <= status < 500 and status != 429
            raise TransportError(f"Twilio answered {status}", permanent=permanent) from exc
        except Exception as exc:  # network errors from the HTTP client
            raise TransportError(
                f"could not reach Twilio ({type(exc).__name__})", permanent=False
            ) from exc


def get_sms_backend():
    """Return an instance of the SMS backend named by settings.SMS_BACKEND."""
    return import_string(settings.SMS_BACKENDS[settings.SMS_BACKEND])()


class SMSChannel:
    """Send one SMS through the configured backend."""

    def send(self, to: str, body: str) -> None:
        try:
            backend = get_sms_backend()
        except ImproperlyConfigured as exc:
            # A deployment mistake: keep the row retrying (and visible) until it is fixed.
            raise TransportError(str(exc), permanent=False) from exc
        backend.send(to, body)


# ---- the notification layer --------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One message in its email and SMS forms."""

    subject: str
    email_body: str
    sms_body: str


@dataclass(frozen=True)
class Delivery:
    """What happened on one channel: delivered when `error` is None."""

    channel: str
    error: TransportError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def notify(
    *,
    notice: Notice,
    channels: Iterable[str],
    email: str = "",
    phone: str = "",
    connection: BaseEmailBackend | None = None,
) -> list[Delivery]:
    """Send the notice on each channel that has an address; report each channel's result.

    `connection` (from `email_connection()`) lets a batch of notices share one email
    connection; without it each email opens its own.
    """
    deliveries = []
    for channel in dict.fromkeys(channels):
        try:
            if channel == EMAIL and email:
                EmailChannel(connection).send(email, notice.subject, notice.email_body)
            elif channel == SMS and phone:
                SMSChannel().send(phone, notice.sms_body)
            elif channel in CHANNELS:
                raise TransportError(f"no {channel} address on file", permanent=True)
            else:
                raise TransportError(f"unknown channel {channel!r}", permanent=True)
        except TransportError as exc:
            logger.warning("delivery failed on %s: %s", channel, exc)
            deliveries.append(Delivery(channel, exc))
        else:
            deliveries.append(Delivery(channel))
    return deliveries
