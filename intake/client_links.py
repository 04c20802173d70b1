"""What a client does with their health form link: prove who they are, keep each step's
answers, and submit the form (one Intake per link, however often they press the button).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from intake import services, signals
from intake.client_form import BY_SLUG, MAX_DRAFT_CHARS, SLUGS, Step
from intake.linkmodels import LIVE, MAX_DOB_TRIES, IntakeLink
from intake.models import ConsentMethod, Intake, IntakeSource
from messaging import links
from messaging.models import LinkStatus


def find_link(token: str) -> IntakeLink | None:
    """Return the link carrying `token` (any status), with its visit and client, or None."""
    rows = IntakeLink.objects.select_related("visit__client", "visit__therapist")
    return links.find(rows, token)


def check_date_of_birth(link: IntakeLink, date_of_birth: dt.date | None) -> bool:
    """Return whether the client's date of birth is right and the link is not locked.

    A wrong one counts against the link; the MAX_DOB_TRIES-th locks it (the clinic sends a
    new one). A right one on a locked link is refused all the same, so nobody can tell
    a lock from a wrong date. The first right one marks the link opened.
    """
    with transaction.atomic():
        row = IntakeLink.objects.select_for_update().get(pk=link.pk)
        if row.locked_at is not None:
            return False
        if date_of_birth is not None and date_of_birth == row.visit.client.date_of_birth:
            if row.opened_at is None:
                row.opened_at = timezone.now()
                row.save(update_fields=["opened_at"])
            return True
        failures = row.dob_failures + 1
        IntakeLink.objects.filter(pk=row.pk).update(
            dob_failures=F("dob_failures") + 1,
            locked_at=timezone.now() if failures >= MAX_DOB_TRIES else None,
        )
        return False


def steps_allowed(link: IntakeLink, step: Step) -> bool:
    """Return whether every step before `step` is done (no skipping ahead)."""
    index = SLUGS.index(step.slug)
    return all(slug in link.steps_done for slug in SLUGS[:index])


def next_step(link: IntakeLink) -> str:
    """Return the first step not done yet (the last step once all others are)."""
    for slug in SLUGS[:-1]:
        if slug not in link.steps_done:
            return slug
    return SLUGS[-1]


class DraftTooLarge(ValueError):
    """A draft bigger than any health form."""


def save_step(
    link: IntakeLink, *, slug: str, values: dict, replace_all: dict | None = None, done=()
) -> bool:
    """Keep a step's answers in the draft and mark it (and `done`) finished.

    `replace_all` replaces the whole draft first (a returning client's last answers).
    Returns False when the link can no longer be used (answered, expired, locked).
    """
    with transaction.atomic():
        row = IntakeLink.objects.select_for_update().get(pk=link.pk)
        if not row.usable():
            return False
        draft = dict(replace_all) if replace_all is not None else dict(row.draft)
        step = BY_SLUG[slug]
        draft = {k: v for k, v in draft.items() if not step.owns(k)}
        draft.update(values)
        if len(json.dumps(draft)) > MAX_DRAFT_CHARS:
            raise DraftTooLarge("the answers are too long")
        row.draft = draft
        row.steps_done = [s for s in SLUGS if s in {*row.steps_done, slug, *done}]
        row.save(update_fields=["draft", "steps_done"])
        link.draft, link.steps_done = row.draft, row.steps_done
    return True


@dataclass(frozen=True)
class Submitted:
    intake: Intake | None
    recorded: bool  # False: this link's form was already received (or the link died)


def submit(link: IntakeLink, *, form, ip: str | None) -> Submitted:
    """Store the client's form as a new Intake (source: the client), screen the visit on it,
    close the link and every other live link of the visit; once per link.

    `form` is the validated ClientIntakeForm. Everything happens in one transaction with
    the link locked: a double submit finds it answered and stores nothing.
    """
    with transaction.atomic():
        row = IntakeLink.objects.select_for_update().select_related("visit__client").get(pk=link.pk)
        if not row.usable():
            return Submitted(intake=row.intake, recorded=False)
        intake = services.intake_record(
            client=row.visit.client,
            data=form.cleaned_data["intake"],
            by=None,
            ip=ip,
            signature_name=form.cleaned_data["signature_name"],
            source=IntakeSource.CLIENT,
            consent_method=ConsentMethod.CLIENT_LINK,
            consent_version=form.consent_version,
        )
        # One answer closes the link, whichever copy of the message the client opened (a
        # copy still being sent carries the same link).
        IntakeLink.objects.filter(pk=row.pk).update(
            intake=intake, submitted_at=timezone.now(), draft={}
        )
        if not links.mark_answered(row):
            raise RuntimeError("the link moved on while locked")
        row.visit.intake_links.filter(status__in=LIVE).exclude(pk=row.pk).update(
            status=LinkStatus.CANCELLED,
            claimed_at=None,
            last_error="the client completed the form",
        )
        row.refresh_from_db()
        signals.client_intake_submitted.send(
            sender=Intake, intake=intake, visit=row.visit, link=row
        )
    return Submitted(intake=intake, recorded=True)
