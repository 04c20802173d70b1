from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from followup.models import CheckIn
from followup.scheduling import quiet_until, schedule_checkins
from tests.factories import ClientFactory
from tests.followup.conftest import NOW, make_visit

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(hour: int, minute: int = 0, day: int = 10, tz=UTC) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=tz)


def test_completed_visit_gets_one_checkin_per_offset_at_24_48_and_72_hours():
    visit = make_visit(completed_at=NOW)

    checkins = schedule_checkins(visit=visit)

    assert [c.policy_hours for c in checkins] == [24, 48, 72]
    assert [c.due_at for c in checkins] == [NOW + datetime.timedelta(days=d) for d in (1, 2, 3)]
    assert {c.status for c in checkins} == {"scheduled"}
    assert all(c.token_hash is None for c in checkins)


def test_scheduling_again_never_duplicates_checkins():
    visit = make_visit()

    first = schedule_checkins(visit=visit)
    second = schedule_checkins(visit=visit)

    assert [c.pk for c in first] == [c.pk for c in second]
    assert CheckIn.objects.filter(visit=visit).count() == 3


def test_other_offset_counts_take_24_hour_steps_by_position(settings):
    settings.FOLLOWUP_OFFSETS = [120, 240, 360, 480]
    visit = make_visit()

    checkins = schedule_checkins(visit=visit)

    assert [c.policy_hours for c in checkins] == [24, 48, 72, 96]


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (at(20, 59), at(20, 59)),  # just before quiet hours
        (at(21, 0), at(8, 0, day=11)),  # quiet from 21:00: next morning
        (at(23, 30), at(8, 0, day=11)),
        (at(0, 15), at(8, 0)),  # after midnight: the same morning
        (at(7, 59), at(8, 0)),
        (at(8, 0), at(8, 0)),  # quiet hours are over
    ],
)
def test_due_times_in_quiet_hours_across_midnight_move_to_the_end_of_quiet_hours(due, expected):
    assert quiet_until(due) == expected


def test_quiet_hours_are_read_in_the_clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    new_york = zoneinfo.ZoneInfo("America/New_York")
    # 02:30 UTC is 22:30 the evening before in New York (EDT from 8 March 2026).
    due = at(2, 30, day=11)

    moved = quiet_until(due)

    assert moved == datetime.datetime(2026, 3, 11, 8, 0, tzinfo=new_york)
    assert timezone.localtime(moved).hour == 8


def test_a_visit_completed_in_the_evening_is_followed_up_after_quiet_hours():
    visit = make_visit(completed_at=at(22, 0))

    checkins = schedule_checkins(visit=visit)

    assert [c.due_at for c in checkins] == [at(8, 0, day=d) for d in (12, 13, 14)]


def test_daytime_quiet_hours_that_do_not_wrap_midnight(settings):
    settings.FOLLOWUP_QUIET_HOURS = (12, 14)

    assert quiet_until(at(12, 30)) == at(14, 0)
    assert quiet_until(at(14, 0)) == at(14, 0)
    assert quiet_until(at(23, 0)) == at(23, 0)


def test_without_quiet_hours_due_times_stay(settings):
    settings.FOLLOWUP_QUIET_HOURS = None

    assert quiet_until(at(3, 0)) == at(3, 0)


@pytest.mark.parametrize(
    ("client_fields", "expected"),
    [
        ({"followup_consent": False, "followup_consent_at": None}, 0),
        ({"opted_out_at": NOW}, 0),
        ({"preferred_channel": "sms", "phone": ""}, 0),
        ({"preferred_channel": "email", "email": ""}, 0),
        ({}, 3),
    ],
    ids=["no-consent", "opted-out", "sms-without-phone", "email-without-address", "consent"],
)
def test_only_clients_who_want_follow_up_and_can_be_reached_get_checkins(client_fields, expected):
    visit = make_visit(client=ClientFactory(**client_fields))

    assert len(schedule_checkins(visit=visit)) == expected
    assert CheckIn.objects.filter(visit=visit).count() == expected


@pytest.mark.parametrize(
    ("preferred", "phone", "channels"),
    [
        ("email", "+447700900123", ["email"]),
        ("sms", "+447700900123", ["sms"]),
        ("both", "+447700900123", ["email", "sms"]),
        ("both", "", ["email"]),
    ],
)
def test_channels_follow_the_preferred_channel_and_skip_a_missing_address(
    preferred, phone, channels
):
    visit = make_visit(client=ClientFactory(preferred_channel=preferred, phone=phone))

    assert {tuple(c.channels) for c in schedule_checkins(visit=visit)} == {tuple(channels)}


def test_an_unfinished_visit_cannot_be_scheduled():
    visit = make_visit()
    visit.completed_at = None

    with pytest.raises(ValueError):
        schedule_checkins(visit=visit)
