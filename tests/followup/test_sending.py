"""Sending claimed check-ins, alone or in batches: links, retries, the final failed state."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend

from followup.models import CheckIn, CheckInStatus
from followup.sending import CHECKINS
from messaging import dispatch
from messaging.channels import LocmemSMSBackend
from messaging.links import hash_token
from messaging.sending import SendSummary, send_batch
from messaging.tasks import send_links
from tests.factories import CheckInFactory, ClientFactory
from tests.followup.conftest import NOW, links_in, make_visit
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


class DownEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({})


def claimed(visit, **fields) -> CheckIn:
    """Add a due check-in and claim it, as the tick does."""
    checkin = CheckInFactory(visit=visit, due_at=NOW, **fields)
    assert dispatch.claim_due(CHECKINS, NOW) == [checkin.pk]
    return checkin


def send(*checkins: CheckIn) -> SendSummary:
    """Send claimed check-ins as one batch, as the tick's `send_checkins` task does."""
    return send_batch(kind=CHECKINS, ids=[checkin.pk for checkin in checkins])


def test_sending_stores_only_the_hash_of_a_fresh_link_built_on_site_url(frozen, visit, settings):
    checkin = claimed(visit)

    send(checkin)

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
        send(claimed(make_visit()))
    for message in mail.outbox:
        tokens.update(links_in(message.body))
    assert len(tokens) == 2


def test_a_temporary_failure_goes_back_to_scheduled_with_a_backoff(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = claimed(visit)

    send(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SCHEDULED
    assert checkin.attempts == 1
    assert checkin.next_attempt_at == NOW + datetime.timedelta(minutes=1)
    assert checkin.token_hash is not None  # the retry carries the same link
    assert "email: temporary" in checkin.last_error


def test_a_permanent_failure_fails_at_once(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingEmailBackend"
    checkin = claimed(visit)

    send(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.FAILED
    assert checkin.last_error == "email: permanent: the mail server refused the recipient"


def test_temporary_failures_fail_after_the_last_attempt(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = claimed(visit, attempts=settings.FOLLOWUP_MAX_ATTEMPTS - 1)

    send(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.FAILED
    assert checkin.attempts == settings.FOLLOWUP_MAX_ATTEMPTS


def test_retries_through_the_tick_end_in_failed_with_the_error_visible(
    frozen, visit, settings, committed
):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"
    checkin = CheckInFactory(visit=visit, due_at=NOW)
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

    send(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT
    assert checkin.last_error.startswith("email: permanent")
    assert len(LocmemSMSBackend.outbox) == 1


def test_a_client_who_opted_out_after_the_claim_gets_nothing(frozen, visit):
    checkin = claimed(visit)
    visit.client.opted_out_at = NOW
    visit.client.save()

    send(checkin)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.CANCELLED
    assert mail.outbox == []


def test_the_address_is_read_when_sending_so_a_corrected_email_is_used(frozen, visit):
    checkin = claimed(visit)
    visit.client.email = "new@example.com"
    visit.client.save()

    send(checkin)

    assert mail.outbox[0].to == ["new@example.com"]


# ---- batches -----------------------------------------------------------------------------


class ByRecipientEmailBackend(locmem.EmailBackend):
    """Locmem, except that "down..." addresses fail for now and "refused..." ones for good."""

    connections = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).connections += 1

    def send_messages(self, messages):
        for message in messages:
            to = message.to[0]
            if to.startswith("down"):
                raise smtplib.SMTPServerDisconnected("gone")
            if to.startswith("refused"):
                raise smtplib.SMTPRecipientsRefused({})
        return super().send_messages(messages)


@pytest.fixture
def by_recipient(settings):
    settings.EMAIL_BACKEND = f"{__name__}.ByRecipientEmailBackend"
    ByRecipientEmailBackend.connections = 0
    return ByRecipientEmailBackend


def claimed_for(email: str, **fields) -> CheckIn:
    return claimed(make_visit(client=ClientFactory(email=email)), **fields)


def test_each_row_of_a_batch_ends_in_its_own_state(frozen, by_recipient):
    sent = claimed_for("fine@example.com")
    temporary = claimed_for("down@example.com")
    permanent = claimed_for("refused@example.com")
    opted_out = claimed_for("gone@example.com")
    ClientFactory._meta.model.objects.filter(pk=opted_out.visit.client_id).update(opted_out_at=NOW)
    moved_on = claimed_for("answered@example.com")
    CheckIn.objects.filter(pk=moved_on.pk).update(status=CheckInStatus.CANCELLED)
    batch = [sent, temporary, permanent, opted_out, moved_on]

    summary = send(*batch)

    for checkin in batch:
        checkin.refresh_from_db()
    assert (sent.status, sent.attempts, sent.sent_at) == (CheckInStatus.SENT, 1, NOW)
    assert sent.token_hash == hash_token(links_in(mail.outbox[0].body)[0])
    assert (temporary.status, temporary.attempts) == (CheckInStatus.SCHEDULED, 1)
    assert temporary.next_attempt_at == NOW + datetime.timedelta(minutes=1)
    assert temporary.token_hash is not None  # kept for the retry
    assert temporary.last_error.startswith("email: temporary")
    assert permanent.status == CheckInStatus.FAILED
    assert not permanent.link_works(NOW)
    assert permanent.last_error.startswith("email: permanent")
    assert opted_out.status == CheckInStatus.CANCELLED
    assert not opted_out.link_works(NOW)
    assert "opted out" in opted_out.last_error
    assert (moved_on.status, moved_on.attempts) == (CheckInStatus.CANCELLED, 0)
    assert [m.to for m in mail.outbox] == [["fine@example.com"]]
    assert (summary.sent, summary.retrying, summary.failed, summary.cancelled) == (1, 1, 1, 1)
    assert by_recipient.connections == 1  # one email connection for the whole batch


def test_a_batch_delivered_twice_sends_each_checkin_once(frozen):
    for _ in range(3):
        CheckInFactory(visit=make_visit(), due_at=NOW)
    ids = dispatch.claim_due(CHECKINS, NOW)

    send_links("checkin", ids)
    send_links("checkin", ids)

    assert len(mail.outbox) == 3
    assert set(CheckIn.objects.values_list("status", "attempts")) == {(CheckInStatus.SENT, 1)}


class LateCopyEmailBackend(locmem.EmailBackend):
    """Locmem; while the first message goes out, a late copy of the batch's task runs."""

    late_batch: list[int] = []

    def send_messages(self, messages):
        late, type(self).late_batch = type(self).late_batch, []
        if late:
            send_links("checkin", late)
        return super().send_messages(messages)


def test_a_late_copy_of_a_batch_cannot_resend_rows_another_worker_is_sending(frozen, settings):
    # The sweeper returned a claim whose task was only late, and the row was claimed again:
    # two tasks now name it, and whichever takes it first is the only one that sends.
    settings.EMAIL_BACKEND = f"{__name__}.LateCopyEmailBackend"
    checkin = claimed(make_visit())
    LateCopyEmailBackend.late_batch = [checkin.pk]

    send_links("checkin", [checkin.pk])

    assert LateCopyEmailBackend.late_batch == []  # the late copy ran, mid-send
    assert len(mail.outbox) == 1
    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SENT, 1)
    assert checkin.token_hash == hash_token(links_in(mail.outbox[0].body)[0])


class DroppingEmailBackend(locmem.EmailBackend):
    """Locmem; once the first message is accepted, the database cuts the sender's connection."""

    drops = 0
    terminated = 0

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if not type(self).drops:
            type(self).drops += 1
            from django.db import connection, connections

            # Another session terminates the recorder's (every session on the database but
            # itself and the sender's, which the test goes on using), as a failover would.
            sender = connection.connection.info.backend_pid
            other = connections["default"].copy()
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND pid <> %s AND backend_type = 'client backend'",
                        [sender],
                    )
                    type(self).terminated = cursor.fetchone()[0]
            finally:
                other.close()
        return sent


@pytest.mark.django_db(transaction=True)
def test_a_database_drop_after_sending_is_recorded_on_a_new_connection(frozen, settings):
    require_postgres()
    settings.EMAIL_BACKEND = f"{__name__}.DroppingEmailBackend"
    DroppingEmailBackend.drops = 0
    checkins = [claimed(make_visit()) for _ in range(2)]

    send(*checkins)

    assert DroppingEmailBackend.terminated >= 1  # the recorder's
    assert len(mail.outbox) == 2
    assert set(CheckIn.objects.values_list("status", flat=True)) == {CheckInStatus.SENT}
