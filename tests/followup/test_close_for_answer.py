"""One answer per link, with the look-up, the lock and the close in one statement
(messaging.links.close_for_answer): what it closes, what it refuses, and two answers at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from followup import answers
from followup.models import CheckIn, CheckInAnswer, CheckInStatus
from messaging.links import close_for_answer
from tests.factories import CheckInFactory
from tests.services import require_postgres
from tests.support.concurrency import second_waits_for_first

ANSWER = {"score": 3, "character": "dull", "radiating": False, "red_flags": []}


def _row(checkin: CheckIn) -> tuple:
    checkin.refresh_from_db()
    return (checkin.status, checkin.sent_at, checkin.claimed_at, checkin.next_attempt_at)


@pytest.mark.django_db
def test_a_working_link_is_closed_and_its_row_returned_as_stored():
    checkin = CheckInFactory(sent=True)
    sent_at = checkin.sent_at

    with transaction.atomic():
        closed = close_for_answer(CheckIn, checkin.token)

    assert closed is not None and closed.pk == checkin.pk
    assert (closed.status, closed.sent_at, closed.visit_id) == (
        CheckInStatus.ANSWERED,
        sent_at,
        checkin.visit_id,
    )
    assert _row(checkin) == (CheckInStatus.ANSWERED, sent_at, None, None)


@pytest.mark.django_db
def test_a_row_answered_before_its_send_was_recorded_takes_its_claim_time_as_sent():
    claimed_at = timezone.now() - dt.timedelta(minutes=3)
    checkin = CheckInFactory(sent=True, status=CheckInStatus.SENDING, claimed_at=claimed_at)
    CheckIn.objects.filter(pk=checkin.pk).update(sent_at=None)

    closed = close_for_answer(CheckIn, checkin.token)

    assert closed.sent_at == claimed_at
    assert _row(checkin) == (CheckInStatus.ANSWERED, claimed_at, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "unusable",
    ["answered", "expired", "cancelled", "never sent", "another token", "empty", "too long"],
)
def test_a_link_that_does_not_work_is_refused_and_its_row_left_as_it_was(unusable):
    checkin = CheckInFactory(sent=True)
    token = checkin.token
    if unusable == "answered":
        CheckIn.objects.filter(pk=checkin.pk).update(status=CheckInStatus.ANSWERED)
    elif unusable == "expired":
        CheckIn.objects.filter(pk=checkin.pk).update(expires_at=timezone.now())
    elif unusable == "cancelled":
        CheckIn.objects.filter(pk=checkin.pk).update(status=CheckInStatus.CANCELLED)
    elif unusable == "never sent":
        never_sent = {"status": CheckInStatus.SCHEDULED, "token_hash": None}
        CheckIn.objects.filter(pk=checkin.pk).update(**never_sent)
    elif unusable == "another token":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif unusable == "empty":
        token = ""
    else:
        token = token * 3
    before = _row(checkin)

    assert close_for_answer(CheckIn, token) is None
    assert _row(checkin) == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["first commits", "first rolls back"])
def test_two_answers_sent_at_once_store_one(first_commits):
    """The second answer waits for the first one's row lock, then the database checks the
    link again on the row as it then is: answered (nothing stored) or, when the first one
    rolled back, still working (the second is stored)."""
    require_postgres()  # SQLite locks the whole database: no two writers to interleave
    checkin = CheckInFactory(sent=True)
    outcome = {}

    class RolledBack(Exception):
        pass

    def first(held):
        try:
            with transaction.atomic():
                outcome["first"] = answers.record_link_answer(token=checkin.token, **ANSWER)
                held()
                if not first_commits:
                    raise RolledBack
        except RolledBack:
            pass

    def second():
        outcome["second"] = answers.record_link_answer(token=checkin.token, **ANSWER)

    second_waits_for_first(first, second)

    assert outcome["first"].recorded is True
    assert outcome["second"].recorded is not first_commits
    assert CheckInAnswer.objects.filter(checkin=checkin).count() == 1
    assert _row(checkin)[0] == CheckInStatus.ANSWERED
