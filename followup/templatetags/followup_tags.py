"""Template helpers for follow-up pages: the pain chart, check-in names and readable
escalation reasons.

A check-in is named by its place ("Check-in 1") and its wait after the visit as configured
("2 minutes after the visit" in a demo, "24 hours after the visit" in a clinic), never by the
escalation policy's hour mark alone: a demo sends its first check-in after minutes.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from clinical import vocabulary
from followup import models, scheduling
from followup.answers import evaluate_visit
from followup.models import CheckInAnswer
from staff.roles import is_therapist

register = template.Library()

LEVEL_COLOURS = {
    **{code: colours[0] for code, colours in vocabulary.ESCALATION_LEVEL_COLOURS.items()},
    None: vocabulary.severity(vocabulary.CLEAR).background,
}
BASELINE_COLOUR = "#5c636a"  # Bootstrap's secondary grey, as darkened in clinic.css

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 20, 16, 40
MIN_HOURS_SHOWN = 72


@register.filter
def checkin_name(policy_hours: int) -> str:
    """Return "Check-in 1" for the check-in at a policy hour mark (24 h is the first)."""
    return f"Check-in {scheduling.checkin_position(policy_hours)}"


@register.filter
def wait_after_visit(offset_seconds: int) -> str:
    """Return "24 hours after the visit" (or "2 minutes...", as configured) for an offset."""
    return models.wait_after_visit(offset_seconds)


@register.filter
def reason_text(reason: dict) -> str:
    """Return "Pain spreading down an arm or leg (check-in 1)" for a stored reason."""
    words = vocabulary.label("escalation_rule", reason.get("rule", ""))
    hours = reason.get("hours")
    if not isinstance(hours, int):
        return words
    return f"{words} ({checkin_name(hours).lower()})"


@register.filter
def raised_from_text(step: dict) -> str:
    """Return "Review from Tue 10 Mar, 10:00" for an earlier level in an escalation's history."""
    words = vocabulary.label("escalation_level", step.get("level", ""))
    try:
        at = timezone.localtime(datetime.datetime.fromisoformat(step.get("at", "")))
    except (TypeError, ValueError):
        return words
    return f"{words} from {date_format(at, 'D j M, H:i')}"


def _rule_level(rule: str) -> str:
    return "urgent" if rule.startswith("U") else "review"


def chart_for(visit) -> dict:
    """Return the SVG geometry of a visit's pain: the baseline, then each answer by hours."""
    answers = list(
        CheckInAnswer.objects.filter(checkin__visit=visit)
        .select_related("checkin")
        .order_by("checkin__policy_hours")
    )
    levels: dict[int, str | None] = {}
    if answers:
        for reason in evaluate_visit(visit).reasons:
            level = _rule_level(reason.rule)
            if levels.get(reason.hours) != "urgent":
                levels[reason.hours] = level
    max_hours = max([MIN_HOURS_SHOWN, *(a.checkin.policy_hours for a in answers)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(hours: int) -> float:
        return round(LEFT + plot_w * hours / max_hours, 1)

    def y(score: int) -> float:
        return round(TOP + plot_h * (10 - score) / 10, 1)

    points = []
    if visit.baseline_pain is not None:
        points.append(
            {
                "x": x(0),
                "y": y(visit.baseline_pain),
                "score": visit.baseline_pain,
                "label": "Before the visit",
                "colour": BASELINE_COLOUR,
                "level": "baseline",
                "level_words": "before the visit",
            }
        )
    for answer in answers:
        hours = answer.checkin.policy_hours
        level = levels.get(hours)
        points.append(
            {
                "x": x(hours),
                "y": y(answer.score),
                "score": answer.score,
                "label": checkin_name(hours),
                "colour": LEVEL_COLOURS[level],
                "level": level or "none",
                "level_words": (
                    vocabulary.label("escalation_level", level) if level else "no escalation"
                ),
                "note": answer.note,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": HEIGHT - BOTTOM,
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "y_ticks": [{"score": s, "y": y(s)} for s in range(0, 11, 2)],
        "x_ticks": [
            {"label": checkin_name(h) if h else "Visit", "x": x(h)}
            for h in range(0, max_hours + 1, scheduling.POLICY_HOURS_STEP)
        ],
        "label_y": HEIGHT - BOTTOM + 18,
        "colours": {"urgent": LEVEL_COLOURS["urgent"], "review": LEVEL_COLOURS["review"]},
        "none_colour": LEVEL_COLOURS[None],
        "baseline_colour": BASELINE_COLOUR,
    }


@register.inclusion_tag("followup/_pain_chart_svg.html", takes_context=True)
def pain_chart(context, visit) -> dict:
    """Render a visit's pain chart, for therapists only (pain scores are health data)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not is_therapist(user):
        return {"allowed": False}
    return {"allowed": True, "visit": visit, "chart": chart_for(visit)}
