"""Template helpers: the body-region map, decision badges and plain words for codes."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from clinical import vocabulary
from intake import extensions
from intake.diff import condition_words

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


@register.inclusion_tag("intake/_body_map.html")
def body_map(field):
    """Render a regions field as a clickable body map over its (still working) checkboxes."""
    shapes = [
        {
            "region": r,
            "label": vocabulary.label("region", r),
            "x": x,
            "y": y,
            "w": w,
            "h": h,
            "r": rx,
        }
        for r, x, y, w, h, rx in SHAPES
    ]
    return {"field": field, "shapes": shapes, "on_map": MAP_REGIONS}


@register.inclusion_tag("intake/_decision_badge.html")
def decision_badge(decision: str | None):
    """Render a decision level as a coloured badge (the level only, never why)."""
    severity = vocabulary.severity(decision)
    return {"severity": severity, "css": f"decision-{severity.code or 'none'}"}


@register.filter
def label(code: str, kind: str) -> str:
    """Show a vocabulary code in plain words: {{ visit.planned_modality|label:"modality" }}."""
    return vocabulary.label(kind, code or "")


@register.filter
def severity(code: str | None) -> vocabulary.Severity:
    """Return a decision level's words and colours (clinical.vocabulary.Severity)."""
    return vocabulary.severity(code)


@register.filter
def code_label(code: str) -> str:
    """Show a code that has no vocabulary kind (e.g. a condition typed in) in plain words."""
    return condition_words(code or "")


@register.simple_tag(takes_context=True)
def sections(context, registry: str, obj):
    """Render the sections other apps registered for this page (intake.extensions)."""
    rendered = extensions.render_sections(
        getattr(extensions, f"{registry}_sections"), context["request"], obj
    )
    return mark_safe("".join(rendered))  # noqa: S308 - each section is a rendered template


@register.filter
def visit_columns(visit) -> list:
    """Return the cells other apps registered for a visit in a list (intake.extensions)."""
    return extensions.render_columns(visit, place="lists")
