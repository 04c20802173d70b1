"""How check-ins are sent: the `checkin` kind of link message.

The tick (messaging.dispatch) claims due check-ins and the batch send (messaging.sending)
takes, delivers and records them, as for every kind; this kind says who receives a check-in
(the visit's client, while they still want follow-up), what it says (followup.messages) and
how long its link works (FOLLOWUP_TOKEN_DAYS).
"""

from __future__ import annotations

import datetime

from django.conf import settings

from followup.messages import checkin_links, checkin_notice
from followup.models import CheckIn
from messaging.channels import SMS, Notice
from messaging.kinds import LinkKind, Recipient


class CheckInKind(LinkKind):
    name = "checkin"
    model = CheckIn
    select_related = ("visit__client",)
    # The client's addresses and consent: nothing of the visit or its health history.
    reads = (
        "reminded_at",
        "visit__client__email",
        "visit__client__phone",
        "visit__client__followup_consent",
        "visit__client__opted_out_at",
    )

    def recipient(self, row: CheckIn) -> Recipient:
        client = row.visit.client
        return Recipient(
            email=client.email,
            # Only when needed: formatting a number validates it, which costs more than a send.
            phone=client.phone.as_e164 if SMS in row.channels and client.phone else "",
            reachable=client.wants_followup(),
        )

    def notice(self, row: CheckIn, token: str) -> Notice:
        answer_link, opt_out_link = checkin_links(token)
        return checkin_notice(
            answer_link=answer_link, opt_out_link=opt_out_link, reminder=row.reminded_at is not None
        )

    def link_expires_at(self, now: datetime.datetime) -> datetime.datetime:
        return now + datetime.timedelta(days=settings.FOLLOWUP_TOKEN_DAYS)

    def overdue_after(self) -> datetime.timedelta:
        # A check-in not sent within a day of its due time is no longer a "24 h" check-in.
        return datetime.timedelta(hours=settings.FOLLOWUP_OVERDUE_HOURS)


CHECKINS = CheckInKind()
