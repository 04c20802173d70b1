"""Alerts to staff: one message to a staff user, by email, and by SMS too when urgent and a
number is set for them. Follow-up's escalation alert uses it; the caller keeps the row that
remembers attempts and retries (messaging.sending's backoff and give_up).

Alerts carry no health data: they point to a page behind a login.
"""

from __future__ import annotations

from django.conf import settings

from messaging.channels import EMAIL, SMS, Delivery, Notice, notify


def staff_phone(user) -> str:
    """Return the staff user's SMS number from settings (User has no phone), or ''."""
    return settings.FOLLOWUP_THERAPIST_PHONES.get(user.get_username(), "")


def alert_staff(*, user, notice: Notice, urgent: bool = False) -> list[Delivery]:
    """Send `notice` to a staff user: email; SMS too when urgent and a number is set."""
    phone = staff_phone(user)
    channels = [EMAIL]
    if urgent and phone:
        channels.append(SMS)
    return notify(notice=notice, channels=channels, email=user.email, phone=phone)
