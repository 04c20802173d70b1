"""The words of every follow-up message, kept to the minimum on purpose.

A check-in message says who it is from (the clinic's name), asks a generic question, and
carries the answer link and the opt-out link. It never names a condition, a treatment or
modality, a body area, a score or the therapist's notes: email and SMS are read on lock
screens and shared devices. The therapist's alert is just as bare and points to the staff
queue, which is behind a login. The functions take links and nothing else, so no caller can
slip health data in.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from messaging.channels import Notice
from messaging.links import site_link

QUESTION = "How are you feeling after your visit?"
REMINDER = "A reminder:"


_TOKEN_PLACEHOLDER = "TOKEN"  # noqa: S105 (a placeholder in a URL pattern, not a secret)


@functools.lru_cache(maxsize=8)
def _link_paths(urlconf: str, script_prefix: str) -> tuple[str, str]:
    # Reversed once per URL configuration, not per message: a dispatch batch builds hundreds.
    return (
        reverse("followup:answer", args=[_TOKEN_PLACEHOLDER], urlconf=urlconf),
        reverse("followup:opt_out", args=[_TOKEN_PLACEHOLDER], urlconf=urlconf),
    )


def checkin_links(token: str) -> tuple[str, str]:
    """Return the answer link and the opt-out link for a check-in token."""
    answer, opt_out = _link_paths(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return (
        site_link(answer.replace(_TOKEN_PLACEHOLDER, token)),
        site_link(opt_out.replace(_TOKEN_PLACEHOLDER, token)),
    )


def checkin_notice(*, answer_link: str, opt_out_link: str, reminder: bool = False) -> Notice:
    """Return the check-in message a client receives (or its one reminder)."""
    clinic = settings.CLINIC_NAME
    question = f"{REMINDER} {QUESTION}" if reminder else QUESTION
    email_body = (
        f"{question}\n\n"
        f"Please take a minute to tell us:\n{answer_link}\n\n"
        "The link works for a few days and only once.\n\n"
        f"To stop these messages: {opt_out_link}\n\n"
        f"{clinic}\n"
    )
    sms_body = f"{clinic}: {question} {answer_link} Stop these messages: {opt_out_link}"
    return Notice(subject=f"{clinic}: {question}", email_body=email_body, sms_body=sms_body)


def therapist_notice(*, queue_link: str, urgent: bool = False, has_note: bool = False) -> Notice:
    """Return the alert a therapist receives when a client's follow-up escalates.

    It says how pressing the case is and whether the client wrote a note, never what.
    """
    clinic = settings.CLINIC_NAME
    text = (
        "Urgent: a client's follow-up needs your attention today"
        if urgent
        else "A client's follow-up needs your review"
    )
    note = " The client added a note." if has_note else ""
    email_body = f"{text}.{note} Open the escalation queue:\n{queue_link}\n\n{clinic}\n"
    return Notice(
        subject=f"{clinic}: {text}",
        email_body=email_body,
        sms_body=f"{clinic}: {text}.{note} Open {queue_link}",
    )
