"""Channels with real locmem transports; failing transports are small stand-in backends."""

from __future__ import annotations

import importlib.util
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

from messaging.channels import (
    ConsoleSMSBackend,
    LocmemSMSBackend,
    Notice,
    OutboxSMSBackend,
    TransportError,
    TwilioSMSBackend,
    notify,
)
from messaging.models import OutboxMessage

NOTICE = Notice(subject="Hello", email_body="Email body", sms_body="SMS body")


class RefusingEmailBackend(BaseEmailBackend):
    """An SMTP server that refuses every recipient."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})


class UnreachableEmailBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, messages):
        raise smtplib.SMTPConnectError(421, "try again later")


class DroppedEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionResetError("connection reset by peer")


def test_email_goes_through_the_configured_django_backend():
    deliveries = notify(notice=NOTICE, channels=["email"], email="ann@example.com")

    assert [d.ok for d in deliveries] == [True]
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["ann@example.com"], "Hello", "Email body")
    ]


def test_sms_goes_through_the_configured_sms_backend():
    deliveries = notify(notice=NOTICE, channels=["sms"], phone="+447700900123")

    assert [d.ok for d in deliveries] == [True]
    assert LocmemSMSBackend.outbox == [("+447700900123", "SMS body")]


def test_both_channels_send_both_messages():
    notify(notice=NOTICE, channels=["email", "sms"], email="a@example.com", phone="+447700900123")

    assert len(mail.outbox) == 1
    assert len(LocmemSMSBackend.outbox) == 1


def test_a_channel_without_an_address_fails_permanently_and_the_other_still_sends():
    deliveries = notify(notice=NOTICE, channels=["email", "sms"], email="a@example.com")

    assert deliveries[0].ok
    assert deliveries[1].error.permanent
    assert "no sms address" in str(deliveries[1].error)


@pytest.mark.parametrize(
    ("backend", "permanent"),
    [
        (RefusingEmailBackend, True),
        (UnreachableEmailBackend, False),
        (DroppedEmailBackend, False),
    ],
)
def test_email_errors_say_whether_they_are_permanent(settings, backend, permanent):
    settings.EMAIL_BACKEND = f"{__name__}.{backend.__name__}"

    [delivery] = notify(notice=NOTICE, channels=["email"], email="a@example.com")

    assert isinstance(delivery.error, TransportError)
    assert delivery.error.permanent is permanent


@pytest.mark.django_db
def test_the_outbox_email_backend_stores_each_message(settings):
    settings.EMAIL_BACKEND = "messaging.channels.OutboxEmailBackend"

    notify(notice=NOTICE, channels=["email"], email="a@example.com")

    row = OutboxMessage.objects.get()
    assert (row.channel, row.to, row.subject, row.body) == (
        "email",
        "a@example.com",
        "Hello",
        "Email body",
    )


@pytest.mark.django_db
def test_the_outbox_sms_backend_stores_each_message():
    OutboxSMSBackend().send("+447700900123", "SMS body")

    row = OutboxMessage.objects.get()
    assert (row.channel, row.to, row.body) == ("sms", "+447700900123", "SMS body")


def test_the_console_sms_backend_prints_the_message(capsys):
    ConsoleSMSBackend().send("+447700900123", "SMS body")

    assert "SMS to +447700900123: SMS body" in capsys.readouterr().out


@pytest.mark.skipif(importlib.util.find_spec("twilio") is not None, reason="twilio installed")
def test_twilio_without_the_optional_package_says_how_to_install_it():
    with pytest.raises(ImproperlyConfigured, match="pip install"):
        TwilioSMSBackend()


@pytest.mark.skipif(importlib.util.find_spec("twilio") is not None, reason="twilio installed")
def test_a_misconfigured_sms_backend_is_a_temporary_error_not_a_crash(settings):
    settings.SMS_BACKEND = "twilio"

    [delivery] = notify(notice=NOTICE, channels=["sms"], phone="+447700900123")

    assert delivery.error.permanent is False
    assert "twilio" in str(delivery.error)
