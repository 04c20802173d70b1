"""How health form links are sent: the `intake` kind of link message.

The tick (messaging.dispatch) claims due links and the batch send (messaging.sending) takes,
delivers and records them, as for every kind. This kind says who receives one (the visit's
client, unless they opted out of messages), what it says (the clinic's name, the visit's
date, the link and how to stop messages: nothing of the health history) and that the link
lives until the visit starts (set on the row when it is made).
"""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.linkmodels import IntakeLink, IntakeLinkPurpose
from messaging.channels import SMS, Notice
from messaging.kinds import LinkKind, Recipient
from messaging.links import site_link

_TOKEN_PLACEHOLDER = "TOKEN"  # noqa: S105 (a placeholder in a URL pattern, not a secret)


@functools.lru_cache(maxsize=8)
def _link_paths(urlconf: str, script_prefix: str) -> tuple[str, str]:
    return (
        reverse("intake:link", args=[_TOKEN_PLACEHOLDER], urlconf=urlconf),
        reverse("intake:link_opt_out", args=[_TOKEN_PLACEHOLDER], urlconf=urlconf),
    )


def form_links(token: str) -> tuple[str, str]:
    """Return the health form link and the opt-out link for a token."""
    form, opt_out = _link_paths(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return (
        site_link(form.replace(_TOKEN_PLACEHOLDER, token)),
        site_link(opt_out.replace(_TOKEN_PLACEHOLDER, token)),
    )


def form_notice(
    *, visit_at: datetime.datetime, form_link: str, opt_out_link: str, reminder: bool
) -> Notice:
    """Return the message asking the client to fill in their health form before the visit."""
    clinic = settings.CLINIC_NAME
    local = timezone.localtime(visit_at)
    day = f"{local:%A} {local.day} {local:%B}"
    ask = _("please complete your health form before your visit on %(day)s") % {"day": day}
    lead = _("A reminder: %(ask)s") if reminder else _("Hello, %(ask)s")
    lead = lead % {"ask": ask}
    first = _("You will be asked for your date of birth first. The link works until your visit.")
    stop = _("To stop messages from us:")
    email_body = f"{lead}.\n\n{form_link}\n\n{first}\n\n{stop} {opt_out_link}\n\n{clinic}\n"
    sms_body = f"{clinic}: {lead}: {form_link} {_('Stop messages:')} {opt_out_link}"
    subject = f"{clinic}: {_('please complete your health form before your visit')}"
    return Notice(subject=subject, email_body=email_body, sms_body=sms_body)


class IntakeLinkKind(LinkKind):
    name = "intake"
    model = IntakeLink
    select_related = ("visit__client",)
    # The client's addresses and opt-out, the visit's time: nothing of the health history.
    reads = (
        "purpose",
        "expires_at",
        "visit__scheduled_at",
        "visit__client__email",
        "visit__client__phone",
        "visit__client__opted_out_at",
    )
    unreachable_reason = "the client opted out, or the visit began, before it was sent"

    def recipient(self, row: IntakeLink) -> Recipient:
        client = row.visit.client
        still_useful = row.expires_at is not None and row.expires_at > timezone.now()
        return Recipient(
            email=client.email,
            phone=client.phone.as_e164 if SMS in row.channels and client.phone else "",
            reachable=client.opted_out_at is None and still_useful,
        )

    def notice(self, row: IntakeLink, token: str) -> Notice:
        form_link, opt_out_link = form_links(token)
        return form_notice(
            visit_at=row.visit.scheduled_at,
            form_link=form_link,
            opt_out_link=opt_out_link,
            reminder=row.purpose == IntakeLinkPurpose.REMINDER,
        )

    def overdue_after(self) -> datetime.timedelta:
        # Still worth sending until the visit; `recipient` cancels one whose visit began.
        return datetime.timedelta(days=max(settings.INTAKE_LINK_DAYS_BEFORE, 1))


INTAKE_LINKS = IntakeLinkKind()
