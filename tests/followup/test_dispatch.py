"""The tick's steps, each called directly, and the thin tasks and command around them."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from followup import tasks
from followup.models import CheckIn, CheckInStatus
from followup.scheduling import schedule_checkins
from followup.sending import CHECKINS
from messaging import dispatch
from messaging.tasks import dispatch_due, send_links
from tests.factories import CheckInFactory
from tests.followup.conftest import HOURS, NOW, make_visit

pytestmark = pytest.mark.django_db

MINUTES = datetime.timedelta(minutes=1)


def statuses(visit) -> list[str]:
    return list(CheckIn.objects.filter(visit=visit).values_list("status", flat=True))


def test_claim_marks_due_rows_sending_and_returns_them(visit):
    due = CheckInFactory(visit=visit, policy_hours=24, due_at=NOW - MINUTES)
    later = CheckInFactory(visit=visit, policy_hours=48, due_at=NOW + HOURS)

    claimed = dispatch.claim_due(CHECKINS, NOW)

    assert claimed == [due.pk]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.claimed_at) == (CheckInStatus.SENDING, NOW)
    assert later.status == CheckInStatus.SCHEDULED
    assert mail.outbox == []  # claiming sends nothing: the tick hands the batch to a task


def test_a_tick_sends_its_claim_only_once_the_claim_has_committed(
    frozen, visit, django_capture_on_commit_callbacks
):
    due = CheckInFactory(visit=visit, due_at=NOW - MINUTES)

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.tick().claimed == 1
        assert mail.outbox == []  # nothing reaches a worker before the claim commits

    due.refresh_from_db()
    assert due.status == CheckInStatus.SENT
    assert [m.to for m in mail.outbox] == [[visit.client.email]]


def test_a_claimed_row_is_not_claimed_again(visit):
    CheckInFactory(visit=visit, due_at=NOW - MINUTES)

    assert len(dispatch.claim_due(CHECKINS, NOW)) == 1
    assert dispatch.claim_due(CHECKINS, NOW) == []


def test_rows_waiting_for_a_retry_are_claimed_only_after_their_backoff(visit):
    CheckInFactory(visit=visit, due_at=NOW - HOURS, next_attempt_at=NOW + 5 * MINUTES)

    assert dispatch.claim_due(CHECKINS, NOW) == []
    assert len(dispatch.claim_due(CHECKINS, NOW + 5 * MINUTES)) == 1


def test_claims_are_made_in_batches(visit):
    for hours in range(24, 24 * 6, 24):
        CheckInFactory(visit=visit, policy_hours=hours, due_at=NOW - MINUTES)

    assert len(dispatch.claim_due(CHECKINS, NOW, limit=2)) == 2
    assert len(dispatch.claim_due(CHECKINS, NOW, limit=10)) == 3


def test_the_sweeper_returns_rows_stuck_in_sending(visit):
    stuck = CheckInFactory(
        visit=visit, status=CheckInStatus.SENDING, claimed_at=NOW - 11 * MINUTES, attempts=0
    )
    busy = CheckInFactory(
        visit=visit, policy_hours=48, status=CheckInStatus.SENDING, claimed_at=NOW - 2 * MINUTES
    )

    assert dispatch.sweep(CHECKINS, NOW) == 1

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.claimed_at, stuck.attempts) == (CheckInStatus.SCHEDULED, None, 0)
    assert busy.status == CheckInStatus.SENDING


def test_an_attempt_lost_to_a_killed_worker_is_given_back_with_the_link(visit, settings):
    # Taken by a worker (its key, its link, the attempt counted) on its last attempt, then
    # the worker was killed: the crash is not a failed delivery.
    stuck = CheckInFactory(
        visit=visit,
        status=CheckInStatus.SENDING,
        claimed_at=NOW - HOURS,
        attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
        send_key="a" * 32,
        link_secret="secret",
        token_hash="b" * 64,
    )

    assert dispatch.sweep(CHECKINS, NOW) == 1

    stuck.refresh_from_db()
    assert stuck.status == CheckInStatus.SCHEDULED
    assert (stuck.attempts, stuck.send_key) == (settings.FOLLOWUP_MAX_ATTEMPTS - 1, None)
    assert (stuck.link_secret, stuck.token_hash) == ("secret", "b" * 64)
    assert stuck.next_attempt_at is None  # no backoff for a crash


def test_far_overdue_rows_that_were_never_sent_expire_with_a_reason(visit):
    overdue = CheckInFactory(visit=visit, due_at=NOW - 25 * HOURS)
    late = CheckInFactory(visit=visit, policy_hours=48, due_at=NOW - 23 * HOURS)

    assert dispatch.expire(CHECKINS, NOW) == (1, 0)

    overdue.refresh_from_db()
    late.refresh_from_db()
    assert overdue.status == CheckInStatus.EXPIRED
    assert "not sent within 24 h" in overdue.last_error
    assert late.status == CheckInStatus.SCHEDULED


def test_sent_rows_past_their_link_expiry_expire_unanswered(visit):
    checkin = CheckInFactory(
        visit=visit, sent=True, sent_at=NOW - datetime.timedelta(days=7, minutes=1)
    )
    fresh = CheckInFactory(
        visit=visit, policy_hours=48, sent=True, sent_at=NOW - datetime.timedelta(days=6)
    )

    assert dispatch.expire(CHECKINS, NOW) == (0, 1)

    checkin.refresh_from_db()
    fresh.refresh_from_db()
    assert checkin.status == CheckInStatus.EXPIRED
    assert fresh.status == CheckInStatus.SENT


def test_when_the_broker_is_down_claimed_rows_wait_for_the_sweeper(
    frozen, visit, committed, broker_down, caplog
):
    checkin = CheckInFactory(visit=visit, due_at=NOW - MINUTES)

    with committed():
        assert dispatch.tick(NOW).claimed == 1  # must not raise
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENDING
    assert mail.outbox == []
    assert "could not enqueue; it will be retried" in caplog.text

    dispatch.sweep(CHECKINS, NOW + 11 * MINUTES)
    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SCHEDULED, 0)
    assert dispatch.claim_due(CHECKINS, NOW + 11 * MINUTES) == [checkin.pk]


def test_a_tick_sends_due_checkins_in_process_when_celery_is_eager(frozen, visit, committed):
    schedule_checkins(visit=visit)

    frozen.move_to(NOW + 24 * HOURS)
    with committed():
        result = dispatch.tick()

    assert result.claimed == 1
    assert statuses(visit) == ["sent", "scheduled", "scheduled"]
    assert [m.to for m in mail.outbox] == [[visit.client.email]]


def test_the_beat_task_and_the_command_run_the_same_tick(frozen, visit, committed):
    schedule_checkins(visit=visit)

    frozen.move_to(NOW + 24 * HOURS)
    with committed():
        dispatch_due.delay()
    frozen.move_to(NOW + 48 * HOURS)
    with committed():
        call_command("sendmessages", stdout=io.StringIO())

    assert statuses(visit) == ["sent", "sent", "scheduled"]
    assert len(mail.outbox) == 2


def test_the_send_task_does_nothing_unless_the_row_is_sending(frozen, visit):
    checkin = CheckInFactory(visit=visit, due_at=NOW)

    send_links("checkin", [checkin.pk, 123456])

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SCHEDULED
    assert mail.outbox == []


def test_sendmessages_rejects_a_non_positive_interval():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sendmessages", "--loop", "--interval", "0")


def test_a_visit_completed_in_a_demo_with_minute_offsets_is_sent_minutes_later(
    frozen, settings, committed
):
    settings.FOLLOWUP_OFFSETS = [120, 240, 360]
    settings.FOLLOWUP_QUIET_HOURS = None
    visit = make_visit(completed_at=NOW)
    schedule_checkins(visit=visit)

    frozen.move_to(NOW + datetime.timedelta(minutes=4))
    with committed():
        dispatch.tick()

    assert statuses(visit) == ["sent", "sent", "scheduled"]


def test_a_claimed_batch_is_sent_by_one_task(frozen, visit, committed, task_runs):
    rows = [CheckInFactory(visit=visit, policy_hours=h, due_at=NOW - MINUTES) for h in (24, 48, 72)]

    with committed():
        dispatch.tick(NOW)

    assert task_runs == [("messaging.tasks.send_links", ("checkin", [row.pk for row in rows]))]
    assert statuses(visit) == ["sent", "sent", "sent"]


def test_a_tick_keeps_claiming_batches_while_rows_are_due(
    frozen, visit, monkeypatch, committed, task_runs
):
    monkeypatch.setattr(dispatch, "BATCH_SIZE", 2)
    for hours in range(24, 24 * 6, 24):
        CheckInFactory(visit=visit, policy_hours=hours, due_at=NOW - MINUTES)

    with committed():
        result = dispatch.tick(NOW)

    assert result.claimed == 5
    assert [len(ids) for _, (_kind, ids) in task_runs] == [2, 2, 1]
    assert len(mail.outbox) == 5


def test_a_tick_leaves_rows_due_once_enough_are_in_flight(
    visit, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(dispatch, "MAX_SENDING", 3)
    CheckInFactory(visit=visit, policy_hours=24, status=CheckInStatus.SENDING, claimed_at=NOW)
    for hours in range(48, 24 * 6, 24):
        CheckInFactory(visit=visit, policy_hours=hours, due_at=NOW - MINUTES)

    # The workers are busy: what the ticks publish waits (the captured callbacks).
    with django_capture_on_commit_callbacks() as waiting:
        assert dispatch.tick(NOW).claimed == 2
        assert dispatch.tick(NOW).claimed == 0

    assert len(waiting) == 1
    assert statuses(visit).count(CheckInStatus.SENDING) == 3


def test_the_tick_publishes_the_tasks_it_names():
    from followup import escalations

    assert send_links.name == dispatch.SEND_TASK
    assert tasks.notify_escalation.name == escalations.NOTIFY_TASK


def test_the_batch_task_sends_only_rows_still_sending(frozen, visit):
    due = CheckInFactory(visit=visit, due_at=NOW)
    scheduled = CheckInFactory(visit=visit, policy_hours=48, due_at=NOW)
    dispatch.claim_due(CHECKINS, NOW, limit=1)

    send_links("checkin", [due.pk, scheduled.pk, 123456])

    assert statuses(visit) == ["sent", "scheduled"]
    assert len(mail.outbox) == 1
