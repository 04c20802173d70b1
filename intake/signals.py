"""The visit workflow's seams: intake sends these, higher layers (screening, follow-up) act.

intake imports neither screening nor follow-up; they connect receivers in their AppConfig's
ready(). Every signal is sent inside the transaction of the change, so a receiver that raises
undoes the change (a visit is never completed without its check-ins, nor booked unscreened).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent (sender=Visit, visit=...) after a scheduled visit's intake, plan, date or therapist
# changed, or after it was booked: screening stores a new screening for it. A receiver may
# raise intake.services.VisitError to refuse the change.
visit_changed = Signal()

# Sent (sender=Visit, visit=..., modality=...) before a visit is completed, with the visit
# locked: each receiver returns a list of problems in plain words ([] when it has none).
visit_completing = Signal()

# Sent (sender=Visit, visit=...) inside the completion transaction, after the visit is saved
# as completed: follow-up schedules its check-ins.
visit_completed = Signal()


def completion_problems(visit, modality: str) -> list[str]:
    """Return every receiver's problems with completing `visit` as `modality`."""
    problems: list[str] = []
    for _receiver, found in visit_completing.send(
        sender=type(visit), visit=visit, modality=modality
    ):
        problems.extend(found or ())
    return problems
