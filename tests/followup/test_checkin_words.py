"""Check-ins and escalation reasons in words: by place and configured wait, not "24 h"."""

from __future__ import annotations

import pytest

from followup.templatetags.followup_tags import checkin_name, reason_text, wait_after_visit


@pytest.mark.parametrize(
    ("policy_hours", "name"), [(24, "Check-in 1"), (48, "Check-in 2"), (72, "Check-in 3")]
)
def test_a_checkin_is_named_by_its_place(policy_hours, name):
    assert checkin_name(policy_hours) == name


@pytest.mark.parametrize(
    ("offset_seconds", "words"),
    [
        (24 * 3600, "24 hours after the visit"),
        (3600, "1 hour after the visit"),
        (120, "2 minutes after the visit"),
        (90, "90 seconds after the visit"),
        (1, "1 second after the visit"),
    ],
)
def test_the_wait_is_the_configured_one(offset_seconds, words):
    assert wait_after_visit(offset_seconds) == words


def test_a_reason_names_the_rule_in_words_and_the_checkin_by_place():
    assert reason_text({"rule": "R2", "hours": 48}) == (
        "Pain up 2 or more points, to 4/10 or more (check-in 2)"
    )
    assert reason_text({"rule": "U3"}) == "Sharp, severe pain (7/10 or more)"
