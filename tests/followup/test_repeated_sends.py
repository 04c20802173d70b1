"""A check-in sent again keeps its link: after a killed worker, a retry, a key rotation; one
answer closes every copy; a deliberate resend by front desk makes a new link."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.urls import reverse

from followup.models import CheckIn, CheckInAnswer, CheckInStatus
from followup.sending import CHECKINS
from messaging import dispatch
from messaging.links import hash_token, mark_answered
from messaging.sending import send_batch
from tests.followup.conftest import NOW, answer_data, links_in, make_visit
from tests.followup.test_sending import DownEmailBackend, claimed

pytestmark = pytest.mark.django_db

MINUTES = datetime.timedelta(minutes=1)


class KilledAfterAcceptEmailBackend(locmem.EmailBackend):
    """Locmem: the message is accepted, then the worker dies before anything is recorded."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        raise SystemExit("SIGKILL")  # no `except Exception` in the send path catches this
        return sent  # pragma: no cover


def send_killed_after_accept(settings, checkin: CheckIn) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.KilledAfterAcceptEmailBackend"
    with pytest.raises(SystemExit):
        send_batch(kind=CHECKINS, ids=[checkin.pk])
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def sweep_and_send_again(frozen, when: datetime.datetime) -> None:
    frozen.move_to(when)
    dispatch.sweep(CHECKINS, when)
    ids = dispatch.claim_due(CHECKINS, when)
    send_batch(kind=CHECKINS, ids=ids)


def opens(client, token: str) -> int:
    return client.get(reverse("followup:answer", args=[token])).status_code


def test_a_checkin_sent_again_after_a_killed_worker_carries_the_same_link(
    frozen, visit, settings, client
):
    checkin = claimed(visit)
    send_killed_after_accept(settings, checkin)
    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SENDING, 1)
    [first_token] = set(links_in(mail.outbox[0].body))
    # While the row waits for the sweeper, the link the client already has works.
    assert opens(client, first_token) == 200

    sweep_and_send_again(frozen, NOW + 11 * MINUTES)

    checkin.refresh_from_db()
    assert len(mail.outbox) == 2
    assert set(links_in(mail.outbox[1].body)) == {first_token}
    assert checkin.token_hash == hash_token(first_token)
    # The attempt lost to the crash was given back: one attempt counted, for the real send.
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SENT, 1)
    assert checkin.expires_at == NOW + datetime.timedelta(days=7)  # from the first send


def test_one_answer_closes_every_copy(frozen, visit, settings, client):
    checkin = claimed(visit)
    send_killed_after_accept(settings, checkin)
    sweep_and_send_again(frozen, NOW + 11 * MINUTES)
    tokens = [links_in(message.body)[0] for message in mail.outbox]
    assert len(tokens) == 2 and all(opens(client, token) == 200 for token in tokens)

    response = client.post(reverse("followup:answer", args=[tokens[1]]), answer_data())

    assert response.status_code == 200
    # Every copy now only confirms the answer arrived: no form to answer again.
    for token in tokens:
        page = client.get(reverse("followup:answer", args=[token]))
        assert page.status_code == 200
        assert b"Your answers reached us" in page.content
        assert b'name="score"' not in page.content
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    assert CheckInAnswer.objects.filter(checkin=checkin).count() == 1


def test_an_answer_to_a_copy_whose_send_was_never_recorded_closes_the_row(
    frozen, visit, settings, client
):
    checkin = claimed(visit)
    send_killed_after_accept(settings, checkin)
    token = links_in(mail.outbox[0].body)[0]

    client.post(reverse("followup:answer", args=[token]), answer_data())

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    assert checkin.sent_at == NOW  # the time it was taken
    # The sweeper finds nothing to send again: the client has answered.
    frozen.move_to(NOW + 11 * MINUTES)
    assert dispatch.sweep(CHECKINS, NOW + 11 * MINUTES) == 0
    assert dispatch.claim_due(CHECKINS, NOW + 11 * MINUTES) == []
    assert len(mail.outbox) == 1


def test_mark_answered_refuses_a_link_that_no_longer_works(frozen, visit):
    checkin = claimed(visit)
    send_batch(kind=CHECKINS, ids=[checkin.pk])
    checkin.refresh_from_db()

    assert mark_answered(checkin) is True
    assert mark_answered(checkin) is False  # answered already
    CheckIn.objects.filter(pk=checkin.pk).update(status=CheckInStatus.CANCELLED)
    assert mark_answered(checkin) is False


def test_a_retry_after_a_temporary_failure_carries_the_same_link(frozen, visit, settings):
    settings.EMAIL_BACKEND = f"{DownEmailBackend.__module__}.DownEmailBackend"
    checkin = claimed(visit)
    send_batch(kind=CHECKINS, ids=[checkin.pk])
    checkin.refresh_from_db()
    first_hash = checkin.token_hash

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.move_to(NOW + 2 * MINUTES)
    send_batch(kind=CHECKINS, ids=dispatch.claim_due(CHECKINS, NOW + 2 * MINUTES))

    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SENT, 2)
    assert hash_token(links_in(mail.outbox[0].body)[0]) == first_hash == checkin.token_hash


def test_a_link_made_before_a_key_rotation_is_sent_again_unchanged(frozen, visit, settings):
    checkin = claimed(visit)
    send_killed_after_accept(settings, checkin)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]

    sweep_and_send_again(frozen, NOW + 11 * MINUTES)

    assert len({links_in(message.body)[0] for message in mail.outbox}) == 1


def test_a_link_whose_key_was_retired_is_replaced(frozen, visit, settings):
    checkin = claimed(visit)
    send_killed_after_accept(settings, checkin)
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = []

    sweep_and_send_again(frozen, NOW + 11 * MINUTES)

    checkin.refresh_from_db()
    second = links_in(mail.outbox[1].body)[0]
    assert second != links_in(mail.outbox[0].body)[0]
    assert checkin.token_hash == hash_token(second)


def test_a_deliberate_resend_makes_a_new_link_and_the_old_one_stops_working(frozen, visit, client):
    checkin = claimed(visit)
    send_batch(kind=CHECKINS, ids=[checkin.pk])
    old_token = links_in(mail.outbox[0].body)[0]

    CheckIn.objects.filter(pk=checkin.pk).resend(due_at=NOW)
    send_batch(kind=CHECKINS, ids=dispatch.claim_due(CHECKINS, NOW))

    new_token = links_in(mail.outbox[1].body)[0]
    assert new_token != old_token
    assert (opens(client, old_token), opens(client, new_token)) == (404, 200)


@pytest.mark.django_db(transaction=True)
def test_a_database_drop_during_the_take_is_retried_on_a_new_connection(frozen, monkeypatch):
    # The take's UPDATE committed, then the connection dropped before its SELECT: the retry
    # finds the rows this attempt took, so none is left taken but unsent.
    from django.db import OperationalError
    from django.db.models import QuerySet

    checkins = [claimed(make_visit()) for _ in range(3)]
    real_only = QuerySet.only
    drops = []

    def drop_once(self, *fields):
        if "link_secret" in fields and not drops:
            drops.append(fields)
            raise OperationalError("server closed the connection unexpectedly")
        return real_only(self, *fields)

    monkeypatch.setattr(QuerySet, "only", drop_once)
    summary = send_batch(kind=CHECKINS, ids=[checkin.pk for checkin in checkins])

    assert drops and summary.sent == 3 and len(mail.outbox) == 3
    assert set(CheckIn.objects.values_list("status", "attempts")) == {(CheckInStatus.SENT, 1)}
