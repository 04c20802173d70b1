"""Deny by default in the admin: front desk can filter, search and see only what staff.access
declares for their role, and no query-string lookup can probe a field they are not shown.

The walker tries, on every registered admin, every model field and every relation path
(reverse relations included, without walking back into a model already on the path) with
each kind of lookup an attacker would use (`?reasons__icontains=U3`,
`?status_reason__startswith=31`...). None may filter: each is refused with 400, or the whole
admin is refused (403). Only the parameters the role declares pass, and those are checked to
touch no health field.
"""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.test import RequestFactory
from django.urls import reverse

from staff import access
from staff.admin import RoleAccessInline, RoleAccessMixin
from staff.roles import FRONT_DESK

pytestmark = pytest.mark.django_db

LOOKUPS = ("", "__exact", "__iexact", "__icontains", "__startswith", "__gte", "__lt", "__in",
           "__isnull", "__regex", "__year")  # fmt: skip
# Through relations, the lookups of the three kinds of probe: equality, prefix (one
# character at a time), range (bisection); the model's own fields get all of LOOKUPS.
RELATION_LOOKUPS = ("", "__startswith", "__gte", "__isnull")
MAX_DEPTH = 3
# The fields that hold health data, by model: front desk must never see, search, order or
# filter on them (or on anything reached through them).
HEALTH_FIELDS = {
    "intake.Visit": {"intake", "baseline_pain", "focus_regions", "status_reason",
                     "performed_modality", "screenings", "checkins__answer"},
    "followup.Escalation": {"reasons", "acknowledgement_note", "resolution_note",
                            "checkin__answer"},
    "followup.CheckIn": {"answer"},
    "intake.Client": {"intakes", "clearances", "visits__intake", "visits__screenings"},
}  # fmt: skip


def relation_paths(model, prefix="", seen=(), *, max_depth: int = MAX_DEPTH) -> list[str]:
    """Return every lookup path from `model`: its fields and, through relations, theirs,
    never walking back into a model already on the path (so every acyclic path)."""
    paths = []
    seen = (*seen, model)
    for field in model._meta.get_fields():
        name = field.name
        path = f"{prefix}{name}"
        paths.append(path)
        related = getattr(field, "related_model", None)
        if (
            field.is_relation
            and isinstance(related, type)
            and related not in seen
            and len(seen) < max_depth
        ):
            paths.extend(relation_paths(related, f"{path}__", seen, max_depth=max_depth))
    return paths


MODELS_IN_THE_GRAPH = apps.get_models(include_auto_created=True)


def _front_desk_request(front_desk):
    request = RequestFactory().get("/admin/")
    request.user = front_desk
    return request


def test_every_registered_admin_and_inline_reads_the_access_declaration():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, RoleAccessMixin), f"{model._meta.label} admin bypasses it"
        for inline in model_admin.inlines:
            assert issubclass(inline, RoleAccessInline), f"{inline.__name__} bypasses it"


@pytest.mark.parametrize(
    "model_admin",
    sorted(admin.site._registry.values(), key=lambda a: a.model._meta.label),
    ids=lambda a: a.model._meta.label,
)
def test_no_undeclared_lookup_filters_for_front_desk(model_admin, front_desk, front_desk_client):
    """Every field and every relation path (each acyclic path through the models), with
    each lookup, refused by the admin's changelist.

    The model's own fields go through the whole stack over HTTP (middleware, session, the
    400 page). Paths of up to three models go through the same changelist view called with
    the front desk's request, which raises what the stack turns into that 400. Every longer
    path, thousands of them, goes to the gate the changelist asks first for each query-string
    parameter (`lookup_allowed`), with the same request.
    """
    label = model_admin.model._meta.label
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    declared = access.model_access(FRONT_DESK, label)
    if declared is None or access.LIST not in declared.pages:
        # The whole admin is refused, so nothing on it can filter either.
        assert front_desk_client.get(url, {"id__gte": "0"}).status_code == 403
        return
    request = RequestFactory().get(url)
    request.user = front_desk
    tried = {"http": 0, "view": 0, "gate": 0}
    for path in relation_paths(model_admin.model, max_depth=len(MODELS_IN_THE_GRAPH)):
        depth = path.count("__") + 1
        for lookup in LOOKUPS:
            parameter = f"{path}{lookup}"
            if parameter in declared.lookups:
                continue
            if depth == 1:
                response = front_desk_client.get(url, {parameter: "1"})
                assert response.status_code == 400, f"{label}: ?{parameter}= filtered"
                tried["http"] += 1
            elif depth <= MAX_DEPTH and lookup in RELATION_LOOKUPS:
                probe = RequestFactory().get(url, {parameter: "1"})
                probe.user = front_desk
                with pytest.raises(DisallowedModelAdminLookup):
                    model_admin.changelist_view(probe)
                tried["view"] += 1
            else:
                assert not model_admin.lookup_allowed(parameter, "1", request), parameter
                tried["gate"] += 1
    assert tried["http"] > 50 and tried["view"] > 100 and tried["gate"] > 1000, tried


@pytest.mark.parametrize("label", sorted(access.FRONT_DESK_MODELS))
def test_what_front_desk_may_use_touches_no_health_field(label):
    declared = access.FRONT_DESK_MODELS[label]
    health = HEALTH_FIELDS.get(label, set())

    def touches_health(name: str) -> bool:
        return any(name == h or name.startswith(f"{h}__") for h in health)

    for kind in ("fields", "columns", "lookups", "search"):
        names = getattr(declared, kind)
        assert names != access.EVERYTHING, f"{label}: front desk may use every {kind}"
        assert not [n for n in names if touches_health(n)], f"{label} {kind}"


def test_each_declared_lookup_is_one_the_admin_offers(front_desk):
    """A declared lookup works (the list answers 200), so the declaration holds no dead names."""
    from django.test import Client as WebClient

    web = WebClient()
    web.force_login(front_desk)
    for label, declared in access.FRONT_DESK_MODELS.items():
        app, model = label.lower().split(".")
        url = reverse(f"admin:{app}_{model}_changelist")
        for parameter in sorted(declared.lookups):
            value = {"__isnull": "True", "__year": "2026", "__month": "1", "__day": "1"}
            suffix = next((s for s in value if parameter.endswith(s)), None)
            if suffix == "__month" or suffix == "__day":
                params = {parameter.replace(suffix, "__year"): "2026", parameter: "1"}
                if suffix == "__day":
                    params[parameter.replace("__day", "__month")] = "1"
            else:
                params = {parameter: value.get(suffix, "1")}
            response = web.get(url, params)
            assert response.status_code == 200, f"{label}: ?{parameter} refused"


@pytest.mark.parametrize(
    "model_admin",
    sorted(admin.site._registry.values(), key=lambda a: a.model._meta.label),
    ids=lambda a: a.model._meta.label,
)
def test_front_desk_gets_only_declared_fields_columns_searches_and_actions(model_admin, front_desk):
    request = _front_desk_request(front_desk)
    declared = access.model_access(FRONT_DESK, model_admin.model._meta.label)
    names = {
        "fields": [*model_admin.get_fields(request), *model_admin.get_readonly_fields(request)],
        "columns": [getattr(c, "__name__", c) for c in model_admin.get_list_display(request)],
        "search": model_admin.get_search_fields(request),
        "actions": list(model_admin.get_actions(request)),
    }
    for kind, used in names.items():
        if declared is None:
            assert not used, f"{model_admin.model._meta.label}: {kind} for an undeclared model"
        else:
            assert set(used) <= set(getattr(declared, kind)), kind


def test_the_visit_admin_governs_columns_and_actions_other_apps_add(front_desk, therapist):
    """Screening and follow-up add columns and actions through intake.extensions; the
    declaration decides who gets them, like any other."""
    from intake import extensions
    from intake.models import Visit

    model_admin = admin.site._registry[Visit]
    added_action = admin.action(description="Probe")(lambda modeladmin, request, qs: None)
    added_action.__name__ = "probe_action"
    extensions.visit_admin_actions.append(added_action)
    added_column = extensions.VisitColumn(
        name="probe_column", description="Probe", annotate=lambda qs: qs, render=lambda v: ""
    )
    extensions.visit_columns.append(added_column)
    try:
        for user, sees in ((front_desk, False), (therapist, True)):
            request = _front_desk_request(user)
            columns = [getattr(c, "__name__", c) for c in model_admin.get_list_display(request)]
            assert ("probe_column" in columns) is sees
            assert ("probe_action" in model_admin.get_actions(request)) is sees
        request = _front_desk_request(front_desk)
        columns = [getattr(c, "__name__", c) for c in model_admin.get_list_display(request)]
        assert {"decision", "followup"} <= set(columns)
        assert {"mark_called", "resend_checkins"} <= set(model_admin.get_actions(request))
    finally:
        extensions.visit_admin_actions.remove(added_action)
        extensions.visit_columns.remove(added_column)


def test_the_attacks_from_the_report_are_refused(world, front_desk_client):
    """The probes that worked before: each is now a 400."""
    world.visit.status_reason = "31 weeks pregnant"
    world.visit.save()
    probes = [
        ("followup_escalation", {"reasons__icontains": "U3"}),
        ("intake_visit", {"baseline_pain": "2"}),
        ("intake_visit", {"focus_regions__icontains": "neck"}),
        ("intake_visit", {"status_reason__startswith": "31"}),
        ("intake_visit", {"intake__conditions__icontains": "herniated"}),
        ("intake_client", {"intakes__medications__icontains": "warfarin"}),
        ("followup_checkin", {"answer__score__gte": "5"}),
        ("intake_visit", {"therapist__password__startswith": "md5"}),
    ]
    for admin_name, params in probes:
        response = front_desk_client.get(reverse(f"admin:{admin_name}_changelist"), params)
        assert response.status_code == 400, (admin_name, params)


def test_a_search_on_a_hidden_field_finds_nothing(world, front_desk_client):
    """Search covers the declared (contact) fields only: a health word matches no row."""
    url = reverse("admin:intake_visit_changelist")
    assert world.client.last_name in front_desk_client.get(url, {"q": "Lopez"}).content.decode()
    response = front_desk_client.get(url, {"q": "herniated"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_front_desk_does_not_see_therapists_notes(world, front_desk_client, therapist):
    from followup.models import Escalation

    Escalation.objects.filter(pk=world.escalation.pk).update(
        status="acknowledged", acknowledged_by=therapist, acknowledgement_note="DVT suspected"
    )
    for url in (
        reverse("followup:escalation_queue") + "?status=acknowledged",
        reverse("admin:followup_escalation_change", args=[world.escalation.pk]),
        reverse("admin:followup_escalation_changelist"),
    ):
        response = front_desk_client.get(url)
        assert response.status_code == 200, url
        assert "DVT suspected" not in response.content.decode(), url


def test_history_pages_show_front_desk_changes_to_declared_fields_only(world, front_desk_client):
    from intake.models import Visit

    visit = Visit.objects.get(pk=world.visit.pk)
    visit.status_reason = "31 weeks pregnant"
    visit.focus_regions = ["lumbar"]
    visit.save()
    visit.scheduled_at += datetime.timedelta(hours=1)
    visit.save()
    url = reverse("admin:intake_visit_history", args=[visit.pk])
    body = front_desk_client.get(url).content.decode()
    assert "31 weeks" not in body and "lumbar" not in body.lower()
    assert "scheduled at" in body.lower()  # the declared field's change is shown
    version = visit.history.latest().history_id
    page = front_desk_client.get(
        reverse("admin:intake_visit_simple_history", args=[visit.pk, version])
    )
    assert page.status_code == 200
    assert "31 weeks" not in page.content.decode()
