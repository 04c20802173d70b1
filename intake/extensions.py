"""Where higher layers add to intake's pages and admin, so that intake imports none of them.

A visit page, a client page, the day list and the admin's visit list show what screening and
follow-up know about a visit. Those apps own that part of the page: they register columns,
sections and admin actions here from their AppConfig.ready(), and intake renders whatever is
registered, in order (pretix's apps plug into shared pages the same way, with signals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class VisitColumn:
    """Something a higher app shows about each visit in a list (day list, client, admin).

    `annotate` adds what `render` needs to a visit queryset (a fixed number of queries per
    page, whatever its length); `render` returns the cell's HTML (escaped by the app).
    """

    name: str
    description: str
    annotate: Callable[[QuerySet], QuerySet]
    render: Callable[[Any], str]
    ordering: str | None = None
    # Where the column appears: "admin" (the admin's visit list), "lists" (the therapist's
    # day list and the client page) and/or "week" (the week list, where a therapist prepares
    # the coming days: who needs a clearance letter, who has not completed a form).
    places: tuple[str, ...] = ("admin", "lists")


# The week list shows every column registered with "week" in its places: the screening
# decision, who needs a clearance letter, and the pre-visit health form's status (screening's
# "form_review" column). A column that says more about the coming visits goes there too.


@dataclass(frozen=True)
class Section:
    """A block of a page that a higher app renders: its template with the app's context.

    `context(request, obj)` returns the template's context, or None to leave the section out.
    """

    name: str
    order: int
    template: str
    context: Callable[[HttpRequest, Any], dict | None]


@dataclass(frozen=True)
class CompletionLimits:
    """What a higher app allows when a visit is completed: the modalities it blocks, and
    whether it refuses completion whatever the modality (massage contraindicated)."""

    blocked_modalities: frozenset[str] = frozenset()
    refused: bool = False


visit_columns: list[VisitColumn] = []
visit_sections: list[Section] = []
client_sections: list[Section] = []
intake_sections: list[Section] = []
# What each higher app allows when a visit is completed: (visit) -> CompletionLimits. The
# visit page then never preselects a blocked modality and offers no Complete when refused.
completion_limits: list[Callable[[Any], CompletionLimits]] = []
# Admin actions on visits, as ModelAdmin action functions (modeladmin, request, queryset).
visit_admin_actions: list[Callable] = []


def register(registry: list, item: Any) -> None:
    """Add `item` to a registry once (ready() may run more than once in tests)."""
    if all(getattr(i, "name", i) != getattr(item, "name", item) for i in registry):
        registry.append(item)


def annotate_visits(visits: QuerySet, *, place: str = "lists") -> QuerySet:
    """Return `visits` with what the columns shown in `place` need."""
    for column in columns(place):
        visits = column.annotate(visits)
    return visits


def render_sections(sections: list[Section], request: HttpRequest, obj: Any) -> list[SafeString]:
    """Render each registered section for `obj`, in order, leaving out those with no context."""
    rendered = []
    for section in sorted(sections, key=lambda s: s.order):
        context = section.context(request, obj)
        if context is not None:
            rendered.append(mark_safe(render_to_string(section.template, context, request)))  # noqa: S308
    return rendered


def columns(place: str) -> list[VisitColumn]:
    """Return the registered columns shown in `place` ("admin" or "lists")."""
    return [column for column in visit_columns if place in column.places]


def render_columns(visit: Any, *, place: str) -> list[SafeString]:
    """Return the cells of the columns shown in `place` for an annotated visit."""
    return [mark_safe(column.render(visit)) for column in columns(place)]  # noqa: S308


def visit_completion_limits(visit: Any) -> CompletionLimits:
    """Return every registered app's limits on completing `visit`, combined."""
    blocked: set[str] = set()
    refused = False
    for limits_of in completion_limits:
        limits = limits_of(visit)
        blocked |= limits.blocked_modalities
        refused = refused or limits.refused
    return CompletionLimits(blocked_modalities=frozenset(blocked), refused=refused)
