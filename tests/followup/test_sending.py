"""Sending one claimed check-in: links, retries, the final failed state."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from followup import services
from followup.channels import LocmemSMSBackend
from followup.models import CheckIn, CheckInStatus, hash_token
from tests.factories import ClientFactory
from tests.followup.conftest import NOW, add_checkin, links_in, make_visit

pytestmark = pytest.mark.django_db


class DownEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({})


def claimed(visit, **fields) -> CheckIn:
    checkin = add_checkin(visit, due_at=NOW, status=CheckInStatus.SENDING, claimed_at=NOW, **fields)
    return CheckIn.objects.select_related("visit__client").get(pk=checkin.pk)


def test_sending_stores_only_the_hash_of_a_fresh_link_built_on_site_url(frozen, visit, settings):
    checkin = claimed(visit)

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    [message] = mail.outbox
    [token, opt_out_token] = links_in(message.body)
    assert token == opt_out_token
    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert checkin.token_hash == hash_token(token)
    assert token not in str(CheckIn.objects.filter(pk=checkin.pk).values().get())
    assert f"{settings.SITE_URL}/f/{token}/opt-out/" in message.body
    assert checkin.status == CheckInStatus.SENT
    assert checkin.sent_at == NOW
    assert checkin.expires_at == NOW + datetime.timedelta(days=7)


def test_each_send_gets_a_different_link(frozen):
    tokens = set()
    for _ in range(2):
        services.send_checkin(claimed(make_visit()))
    for message in mail.outbox:
        tokens.update(links_in(message.body))
    assert len(tokens) == 2


def test_a_temporary_failure_goes_back_to_scheduled_with_a_backoff(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = claimed(visit)

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SCHEDULED
    assert checkin.attempts == 1
    assert checkin.next_attempt_at == NOW + datetime.timedelta(minutes=1)
    assert checkin.token_hash is None
    assert "email: temporary" in checkin.last_error


def test_a_permanent_failure_fails_at_once(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    checkin = claimed(visit)

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.FAILED
    assert checkin.last_error == "email: permanent: the mail server refused the recipient"


def test_temporary_failures_fail_after_the_last_attempt(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = claimed(visit, attempts=settings.FOLLOWUP_MAX_ATTEMPTS - 1)

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.FAILED
    assert checkin.attempts == settings.FOLLOWUP_MAX_ATTEMPTS


def test_retries_through_the_tick_end_in_failed_with_the_error_visible(
    frozen, visit, settings, committed
):
    from followup import dispatch

    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = add_checkin(visit, due_at=NOW)
    for _ in range(settings.FOLLOWUP_MAX_ATTEMPTS):
        with committed():
            dispatch.tick()
        frozen.shift(datetime.timedelta(hours=1))

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.FAILED
    assert checkin.attempts == settings.FOLLOWUP_MAX_ATTEMPTS
    assert "could not reach the mail server" in checkin.last_error


def test_when_one_of_two_channels_fails_the_checkin_is_sent_and_the_error_kept(frozen, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    visit = make_visit(client=ClientFactory(preferred_channel="both"))
    checkin = claimed(visit, channels=["email", "sms"])

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT
    assert checkin.last_error.startswith("email: permanent")
    assert len(LocmemSMSBackend.outbox) == 1


def test_a_client_who_opted_out_after_the_claim_gets_nothing(frozen, visit):
    checkin = claimed(visit)
    visit.client.opted_out_at = NOW
    visit.client.save()

    services.send_checkin(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.CANCELLED
    assert mail.outbox == []


def test_the_address_is_read_when_sending_so_a_corrected_email_is_used(frozen, visit):
    checkin = claimed(visit)
    visit.client.email = "new@example.com"
    visit.client.save()

    services.send_checkin(CheckIn.objects.select_related("visit__client").get(pk=checkin.pk))

    assert mail.outbox[0].to == ["new@example.com"]
