"""Template helpers: the body-region map, decision badges and plain words for codes."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from clinical import vocabulary
from intake import extensions, i18n
from intake.diff import condition_words

register = template.Library()

# The body-region map: a front figure (left) and a back figure (right) in a 240 x 262 box.
# Each part is one region with all its shapes (x, y, width, height, corner radius): the arms
# are one part, drawn four times. Parts are listed in the order the arrow keys visit them:
# the trunk from top to bottom, then the limbs. Shapes never overlap, so a click always
# chooses the part it lands on (the spine has no shape: a strip over the middle of the back
# took the lower back's clicks; it is a checkbox beside the map, like the other regions
# without a shape). `text` places a visible label on the parts wide enough for one.
_FRONT = 60
_BACK = 180


def _both(dx: float, y: float, w: float, h: float, r: float) -> list[tuple]:
    """Return a pair of shapes (left and right of the midline) on both figures."""
    return [
        (centre + side * dx - w / 2, y, w, h, r) for centre in (_FRONT, _BACK) for side in (-1, 1)
    ]


def _front(dx, y, w, h, r):
    return (_FRONT + dx, y, w, h, r)


def _back(dx, y, w, h, r):
    return (_BACK + dx, y, w, h, r)


BODY_PARTS: tuple[tuple[str, tuple[tuple, ...], tuple | None], ...] = (
    ("head", (_front(-14, 4, 28, 34, 14), _back(-14, 4, 28, 34, 14)), None),
    ("neck", (_front(-7, 38, 14, 11, 3), _back(-7, 38, 14, 11, 3)), None),
    ("shoulders", (_front(-30, 49, 60, 12, 6), _back(-30, 49, 60, 12, 6)), None),
    ("chest", (_front(-22, 61, 44, 30, 4),), (_FRONT, 79)),
    ("upper_back", (_back(-22, 61, 44, 18, 3),), (_BACK, 73)),
    ("thoracic", (_back(-22, 79, 44, 18, 3),), (_BACK, 91)),
    ("abdomen", (_front(-22, 91, 44, 30, 4),), (_FRONT, 109)),
    ("lumbar", (_back(-22, 97, 44, 22, 3),), (_BACK, 111)),
    ("hips", (_front(-22, 121, 44, 26, 6),), (_FRONT, 137)),
    ("sacrum", (_back(-10, 119, 20, 10, 3),), None),
    ("glutes", (_back(-22, 129, 44, 18, 6),), (_BACK, 141)),
    ("arms", tuple(_both(29, 61, 13, 60, 6)), None),
    ("hands", tuple(_both(30, 123, 15, 16, 5)), None),
    ("legs", tuple(_both(11, 147, 18, 34, 6) + _both(11, 196, 16, 38, 6)), None),
    ("knees", (_front(-20, 181, 18, 15, 6), _front(2, 181, 18, 15, 6)), None),
    ("feet", tuple(_both(11, 236, 20, 12, 4)), None),
)
MAP_REGIONS = frozenset(region for region, _, _ in BODY_PARTS)


@register.inclusion_tag("intake/_body_map.html")
def body_map(field):
    """Render a regions field as a body map over its checkboxes (which work without JS)."""
    parts = [
        {
            "region": region,
            "label": i18n.label("region", region),
            "shapes": [{"x": x, "y": y, "w": w, "h": h, "r": r} for x, y, w, h, r in shapes],
            "text": {"x": text[0], "y": text[1]} if text else None,
        }
        for region, shapes, text in BODY_PARTS
    ]
    codes = [code for code in (field.value() or []) if isinstance(code, str)]
    chosen = ", ".join(i18n.label("region", code) for code in codes)
    # static/js/body-map.js fills in the same sentence as the client chooses.
    chosen_words = gettext("Chosen: %(regions)s")
    no_regions = pgettext("body regions chosen", "none")
    return {
        "field": field,
        "parts": parts,
        "on_map": MAP_REGIONS,
        "map_label": gettext("%(field)s: body map. Arrow keys move between parts, Space chooses.")
        % {"field": field.label},
        "chosen": chosen_words % {"regions": chosen or no_regions},
        "chosen_words": chosen_words,
        "no_regions": no_regions,
    }


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
def week_columns(visit) -> list:
    """Return the cells other apps registered for a visit in the week list."""
    return extensions.render_columns(visit, place="week")


@register.filter
def visit_columns(visit) -> list:
    """Return the cells other apps registered for a visit in a list (intake.extensions)."""
    return extensions.render_columns(visit, place="lists")
