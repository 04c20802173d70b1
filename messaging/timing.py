"""When a client message may go out: the quiet hours, in the clinic's local time.

Every kind of link message (check-ins, pre-visit intake links) falls due outside the quiet
hours (FOLLOWUP_QUIET_HOURS), so a client is never woken by the clinic.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone


def quiet_until(moment: datetime.datetime) -> datetime.datetime:
    """Return `moment`, or the end of the quiet period it falls in (clinic's local time)."""
    quiet = settings.FOLLOWUP_QUIET_HOURS
    if not quiet:
        return moment
    start, end = quiet
    local = timezone.localtime(moment)
    hour = local.hour
    wraps = start > end  # e.g. 21-08 spans midnight
    in_quiet = (hour >= start or hour < end) if wraps else (start <= hour < end)
    if not in_quiet:
        return moment
    end_day = local.date()
    if wraps and hour >= start:
        end_day += datetime.timedelta(days=1)
    zone = timezone.get_current_timezone()
    return datetime.datetime.combine(end_day, datetime.time(end), tzinfo=zone)
