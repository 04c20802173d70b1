"""Template helpers for the intake pages: the body-region map and screening badges."""

from __future__ import annotations

from django import template

from intake.forms import label_for
from screening.models import Decision

register = template.Library()

# Clickable shapes (x, y, width, height, corner radius) per catalogue region, front figure
# left and back figure right. Regions without a shape stay plain checkboxes.
_FRONT = 60
_BACK = 180
_SIDES = (-1, 1)


def _pair(region, dx, y, w, h, r, centre):
    return [(region, centre + side * dx - w / 2, y, w, h, r) for side in _SIDES]


def _figure(centre: int, back: bool) -> list[tuple]:
    shapes = [
        ("head", centre - 14, 4, 28, 34, 14),
        ("neck", centre - 7, 38, 14, 11, 3),
        ("shoulders", centre - 30, 49, 60, 12, 6),
        *_pair("arms", 29, 61, 13, 60, 6, centre),
        *_pair("hands", 29, 123, 15, 16, 5, centre),
        *_pair("legs", 11, 147, 18, 34, 6, centre),
        *_pair("legs", 11, 196, 16, 38, 6, centre),
        *_pair("feet", 11, 236, 20, 12, 4, centre),
    ]
    if back:
        shapes += [
            ("upper_back", centre - 22, 61, 44, 18, 3),
            ("thoracic", centre - 22, 79, 44, 18, 3),
            ("lumbar", centre - 22, 97, 44, 22, 3),
            ("sacrum", centre - 10, 119, 20, 10, 3),
            ("glutes", centre - 22, 129, 44, 18, 6),
            ("spine", centre - 3, 49, 6, 70, 3),
        ]
    else:
        shapes += [
            ("chest", centre - 22, 61, 44, 30, 4),
            ("abdomen", centre - 22, 91, 44, 30, 4),
            ("hips", centre - 22, 121, 44, 26, 6),
            *_pair("knees", 11, 181, 18, 15, 6, centre),
        ]
    return shapes


SHAPES = tuple(_figure(_FRONT, back=False) + _figure(_BACK, back=True))
MAP_REGIONS = frozenset(shape[0] for shape in SHAPES)

BADGE_CLASSES = {
    Decision.CONTRAINDICATED: "text-bg-danger",
    Decision.CLEARANCE: "text-bg-warning",
    Decision.LOCAL: "text-bg-info",
    Decision.MODIFY: "text-bg-primary",
    Decision.CLEAR: "text-bg-success",
}


@register.inclusion_tag("intake/_body_map.html")
def body_map(field):
    """Render a regions field as a clickable body map over its (still working) checkboxes."""
    shapes = [
        {"region": r, "label": label_for(r), "x": x, "y": y, "w": w, "h": h, "r": rx}
        for r, x, y, w, h, rx in SHAPES
    ]
    return {"field": field, "shapes": shapes, "on_map": MAP_REGIONS}


@register.inclusion_tag("intake/_decision_badge.html")
def decision_badge(decision: str | None):
    """Render a screening decision level as a coloured badge (decision only, no details)."""
    if not decision:
        return {"css": "text-bg-secondary", "label": "Not screened"}
    return {
        "css": BADGE_CLASSES.get(decision, "text-bg-secondary"),
        "label": Decision(decision).label,
    }


@register.filter
def code_label(code: str) -> str:
    """Show a catalogue code in plain words."""
    return label_for(code or "")
