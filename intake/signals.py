"""The visit workflow's seams: intake sends these, higher layers (screening, follow-up) act.

intake imports neither screening nor follow-up; they connect receivers in their AppConfig's
ready(). Every signal is sent inside the transaction of the change, so a receiver that raises
undoes the change (a visit is never completed without its check-ins).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent (sender=Visit, visit=..., new_intake=...) after a scheduled visit's intake, plan, date
# or therapist changed, or after it was booked, inside the transaction that holds the visit's
# row (locked, or inserted by it): screening stores a new screening for it. `new_intake` says
# the visit's intake was recorded in that same transaction. Each receiver returns a list of
# problems in plain words ([] when it has none), e.g. an intake that cannot be screened for
# the new date; the change is kept all the same, so that whoever made it cannot learn
# something of the health history from a refusal.
visit_changed = Signal()

# Sent (sender=Visit, visit=..., modality=...) before a visit is completed, with the visit
# locked: each receiver returns a list of problems in plain words ([] when it has none).
visit_completing = Signal()

# Sent (sender=Visit, visit=...) inside the completion transaction, after the visit is saved
# as completed: follow-up schedules its check-ins.
visit_completed = Signal()


def plan_problems(visit, *, new_intake: bool = False) -> list[str]:
    """Send visit_changed and return every receiver's problems with the visit's new plan.

    `new_intake` says the visit's intake was recorded in this transaction (so nothing was
    screened on it yet).
    """
    problems: list[str] = []
    for _receiver, found in visit_changed.send(
        sender=type(visit), visit=visit, new_intake=new_intake
    ):
        problems.extend(found or ())
    return problems


def completion_problems(visit, modality: str) -> list[str]:
    """Return every receiver's problems with completing `visit` as `modality`."""
    problems: list[str] = []
    for _receiver, found in visit_completing.send(
        sender=type(visit), visit=visit, modality=modality
    ):
        problems.extend(found or ())
    return problems


# Sent (sender=Intake, intake=..., visit=..., link=...) inside the transaction that stores a
# health form the client submitted by their link, after the visit was screened on it:
# screening tells the visit's therapist at once when it needs them before the visit.
client_intake_submitted = Signal()
