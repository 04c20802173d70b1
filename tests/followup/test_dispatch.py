"""The tick's steps, each called directly, and the thin tasks and command around them."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from followup import dispatch, sending, tasks
from followup.models import CheckIn, CheckInStatus
from followup.scheduling import schedule_checkins
from tests.followup.conftest import HOURS, NOW, add_checkin, issue_link, make_visit

pytestmark = pytest.mark.django_db

MINUTES = datetime.timedelta(minutes=1)


def statuses(visit) -> list[str]:
    return list(CheckIn.objects.filter(visit=visit).values_list("status", flat=True))


def test_claim_marks_due_rows_sending_and_enqueues_each_after_commit(
    visit, django_capture_on_commit_callbacks
):
    due = add_checkin(visit, policy_hours=24, due_at=NOW - MINUTES)
    later = add_checkin(visit, policy_hours=48, due_at=NOW + HOURS)
    enqueued = []

    with django_capture_on_commit_callbacks() as callbacks:
        claimed = dispatch.claim_due(NOW, enqueue=enqueued.append)
        assert enqueued == []  # nothing reaches the broker before the claim commits
    for callback in callbacks:
        callback()

    assert claimed == [due.pk]
    assert enqueued == [due.pk]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.claimed_at) == (CheckInStatus.SENDING, NOW)
    assert later.status == CheckInStatus.SCHEDULED


def test_a_claimed_row_is_not_claimed_again(visit):
    add_checkin(visit, due_at=NOW - MINUTES)

    assert len(dispatch.claim_due(NOW, enqueue=lambda pk: None)) == 1
    assert dispatch.claim_due(NOW, enqueue=lambda pk: None) == []


def test_rows_waiting_for_a_retry_are_claimed_only_after_their_backoff(visit):
    add_checkin(visit, due_at=NOW - HOURS, next_attempt_at=NOW + 5 * MINUTES)

    assert dispatch.claim_due(NOW, enqueue=lambda pk: None) == []
    assert len(dispatch.claim_due(NOW + 5 * MINUTES, enqueue=lambda pk: None)) == 1


def test_claims_are_made_in_batches(visit):
    for hours in range(24, 24 * 6, 24):
        add_checkin(visit, policy_hours=hours, due_at=NOW - MINUTES)

    assert len(dispatch.claim_due(NOW, limit=2, enqueue=lambda pk: None)) == 2
    assert len(dispatch.claim_due(NOW, limit=10, enqueue=lambda pk: None)) == 3


def test_the_sweeper_returns_rows_stuck_in_sending(visit):
    stuck = add_checkin(
        visit, status=CheckInStatus.SENDING, claimed_at=NOW - 11 * MINUTES, attempts=1
    )
    busy = add_checkin(
        visit, policy_hours=48, status=CheckInStatus.SENDING, claimed_at=NOW - 2 * MINUTES
    )

    assert dispatch.sweep(NOW) == (1, 0)

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.claimed_at) == (CheckInStatus.SCHEDULED, None)
    assert busy.status == CheckInStatus.SENDING


def test_the_sweeper_fails_a_stuck_row_after_its_last_attempt(visit, settings):
    stuck = add_checkin(
        visit,
        status=CheckInStatus.SENDING,
        claimed_at=NOW - HOURS,
        attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
    )

    assert dispatch.sweep(NOW) == (0, 1)

    stuck.refresh_from_db()
    assert stuck.status == CheckInStatus.FAILED
    assert "stuck" in stuck.last_error


def test_far_overdue_rows_that_were_never_sent_expire_with_a_reason(visit):
    overdue = add_checkin(visit, due_at=NOW - 25 * HOURS)
    late = add_checkin(visit, policy_hours=48, due_at=NOW - 23 * HOURS)

    assert dispatch.expire(NOW) == (1, 0)

    overdue.refresh_from_db()
    late.refresh_from_db()
    assert overdue.status == CheckInStatus.EXPIRED
    assert "not sent within 24 h" in overdue.last_error
    assert late.status == CheckInStatus.SCHEDULED


def test_sent_rows_past_their_link_expiry_expire_unanswered(visit):
    checkin = add_checkin(visit)
    issue_link(checkin, at=NOW - datetime.timedelta(days=7, minutes=1))
    fresh = add_checkin(visit, policy_hours=48)
    issue_link(fresh, at=NOW - datetime.timedelta(days=6))

    assert dispatch.expire(NOW) == (0, 1)

    checkin.refresh_from_db()
    fresh.refresh_from_db()
    assert checkin.status == CheckInStatus.EXPIRED
    assert fresh.status == CheckInStatus.SENT


def test_when_the_broker_is_down_claimed_rows_wait_for_the_sweeper(visit, committed):
    checkin = add_checkin(visit, due_at=NOW - MINUTES)

    def broker_down(pk):
        raise ConnectionError("Redis is not answering")

    with committed():
        dispatch.claim_due(NOW, enqueue=broker_down)  # must not raise
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENDING

    dispatch.sweep(NOW + 11 * MINUTES)
    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (CheckInStatus.SCHEDULED, 0)
    assert dispatch.claim_due(NOW + 11 * MINUTES, enqueue=lambda pk: None) == [checkin.pk]


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
        tasks.dispatch_due.delay()
    frozen.move_to(NOW + 48 * HOURS)
    with committed():
        call_command("sendfollowups", stdout=io.StringIO())

    assert statuses(visit) == ["sent", "sent", "scheduled"]
    assert len(mail.outbox) == 2


def test_the_send_task_does_nothing_unless_the_row_is_sending(frozen, visit):
    checkin = add_checkin(visit, due_at=NOW)

    tasks.send_checkin(checkin.pk)
    tasks.send_checkin(123456)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SCHEDULED
    assert mail.outbox == []


def test_a_task_delivered_twice_sends_the_checkin_once(frozen, visit):
    checkin = add_checkin(visit, due_at=NOW)
    dispatch.claim_due(NOW, enqueue=lambda pk: None)

    tasks.send_checkin(checkin.pk)
    tasks.send_checkin(checkin.pk)

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT
    assert len(mail.outbox) == 1


def test_a_stale_copy_of_a_task_cannot_send_after_another_worker_took_the_row(frozen, visit):
    checkin = add_checkin(visit, due_at=NOW)
    dispatch.claim_due(NOW, enqueue=lambda pk: None)
    stale = CheckIn.objects.select_related("visit__client").get(pk=checkin.pk)
    tasks.send_checkin(checkin.pk)

    sending.send_checkin(stale)  # loaded before the other worker took it

    assert len(mail.outbox) == 1


def test_sendfollowups_rejects_a_non_positive_interval():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sendfollowups", "--loop", "--interval", "0")


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


def test_a_claimed_batch_is_enqueued_as_one_task_after_commit(
    visit, django_capture_on_commit_callbacks
):
    rows = [add_checkin(visit, policy_hours=h, due_at=NOW - MINUTES) for h in (24, 48, 72)]
    batches = []

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.claim_due(NOW, enqueue_batch=batches.append)
        assert batches == []

    assert batches == [[row.pk for row in rows]]


def test_a_tick_keeps_claiming_batches_while_rows_are_due(visit, monkeypatch, committed):
    monkeypatch.setattr(dispatch, "BATCH_SIZE", 2)
    for hours in range(24, 24 * 6, 24):
        add_checkin(visit, policy_hours=hours, due_at=NOW - MINUTES)
    batches = []

    with committed():
        result = dispatch.tick(NOW, enqueue_batch=batches.append)

    assert result.claimed == 5
    assert [len(batch) for batch in batches] == [2, 2, 1]


def test_a_tick_leaves_rows_due_once_enough_are_in_flight(visit, monkeypatch):
    monkeypatch.setattr(dispatch, "MAX_SENDING", 3)
    add_checkin(visit, policy_hours=24, status=CheckInStatus.SENDING, claimed_at=NOW)
    for hours in range(48, 24 * 6, 24):
        add_checkin(visit, policy_hours=hours, due_at=NOW - MINUTES)

    assert dispatch.tick(NOW, enqueue_batch=lambda ids: None).claimed == 2
    assert dispatch.tick(NOW, enqueue_batch=lambda ids: None).claimed == 0


def test_the_batch_task_sends_only_rows_still_sending(frozen, visit):
    due = add_checkin(visit, due_at=NOW)
    scheduled = add_checkin(visit, policy_hours=48, due_at=NOW)
    dispatch.claim_due(NOW, limit=1, enqueue=lambda pk: None)

    tasks.send_checkins([due.pk, scheduled.pk, 123456])

    assert statuses(visit) == ["sent", "scheduled"]
    assert len(mail.outbox) == 1
