"""The read log and the change history cover every health record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import HealthRecordAccess

pytestmark = pytest.mark.django_db

# Every page that shows a client's health history, and what its access row says it was.
HEALTH_PAGES = {
    "client page": ("intake:client_detail", {"client_id": "client"}),
    "intake": ("intake:intake_detail", {"intake_id": "intake"}),
    "intake changes": ("intake:intake_diff", {"intake_id": "intake"}),
    "intake form (previous intake)": ("intake:intake_create", {"client_id": "client"}),
    "visit": ("intake:visit_detail", {"visit_id": "visit"}),
    "screening report": ("screening:report", {"visit_id": "visit"}),
    "clearances": ("screening:client_clearance_add", {"client_id": "client"}),
    "clearance document": ("screening:clearance_document", {"clearance_id": "clearance"}),
    "clearance letter": ("screening:clearance_letter", {"visit_id": "visit"}),
    "intake and screening summary": ("screening:record_summary", {"visit_id": "visit"}),
    "follow-up pain chart": ("followup:pain_chart", {"pk": "done_visit"}),
}


def _url(world, page: str) -> str:
    name, spec = HEALTH_PAGES[page]
    return reverse(name, kwargs={k: getattr(world, v).pk for k, v in spec.items()})


@pytest.mark.parametrize("page", sorted(HEALTH_PAGES))
def test_a_therapist_opening_a_health_page_writes_one_access_row(page, world, browsers, therapist):
    HealthRecordAccess.objects.all().delete()
    url = _url(world, page)
    response = browsers("therapist").get(url)
    assert response.status_code == 200
    row = HealthRecordAccess.objects.get()
    assert (row.user, row.client, row.path) == (therapist, world.client, url)
    assert row.what == page


@pytest.mark.parametrize("page", sorted(HEALTH_PAGES))
def test_front_desk_cannot_open_a_health_page_and_no_access_is_logged(page, world, browsers):
    HealthRecordAccess.objects.all().delete()
    response = browsers("front_desk").get(_url(world, page))
    assert response.status_code in (403, 404)
    assert not HealthRecordAccess.objects.exists()


def test_the_access_row_keeps_the_path_without_the_query_string(world, browsers):
    HealthRecordAccess.objects.all().delete()
    url = _url(world, "client page")
    browsers("therapist").get(url, {"q": "Ana Lopez"})
    assert HealthRecordAccess.objects.get().path == url


def test_changes_to_clients_intakes_and_visits_are_in_the_history_with_the_user(
    world, browsers, therapist, front_desk
):
    from intake.models import Intake, Visit

    person = world.client
    data = {
        "first_name": "Ana",
        "last_name": "Lopez-Garcia",
        "date_of_birth": person.date_of_birth.isoformat(),
        "email": person.email,
        "phone": str(person.phone),
        "preferred_channel": person.preferred_channel,
        "followup_consent": "on",
        "opted_out_at_0": "",
        "opted_out_at_1": "",
    }
    response = browsers("front_desk").post(
        reverse("admin:intake_client_change", args=[person.pk]), data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = person.history.latest()
    assert (change.history_type, change.history_user, change.last_name) == (
        "~",
        front_desk,
        "Lopez-Garcia",
    )

    web = browsers("therapist")
    response = web.post(
        reverse("intake:intake_create", args=[person.pk]),
        {
            "visit_date": world.intake.visit_date.isoformat(),
            "planned_modality": "swedish",
            "pain_score": "2",
            "consent": "on",
            "signature_name": "Ana Lopez-Garcia",
        },
    )
    assert response.status_code == 302
    intake = Intake.objects.latest("id")
    created = intake.history.get()
    assert (created.history_type, created.history_user) == ("+", therapist)
    # The scheduled visit moved onto the new intake: recorded, with who did it.
    moved = Visit.history.filter(id=world.visit.pk).latest()
    assert (moved.history_user, moved.intake_id) == (therapist, intake.pk)

    response = web.post(
        reverse("intake:visit_cancel", args=[world.visit.pk]), {"cancel-reason": "client ill"}
    )
    assert response.status_code == 302
    cancelled = Visit.history.filter(id=world.visit.pk).latest()
    assert (cancelled.history_user, cancelled.status) == (therapist, "cancelled")


# ---- every URL pattern and every admin view ------------------------------------------------

# Pages that show no health history, and why (everything else is in HEALTH_PAGES).
NOT_HEALTH_PAGES = {
    "intake:today": "names, times and the screening decision level only",
    "intake:client_list": "contact data only",
    "intake:client_create": "a blank contact form",
    "intake:visit_create": "the plan of the latest intake (modality, regions) as a form",
    "followup:no_response": "names and contact data of clients to call",
    "messaging:outbox": "development only: generic messages with their links",
    "followup:answer": "the client's own form, reached with their link",
    "followup:opt_out": "the client's own page, reached with their link",
    "intake:link": "asks the client's date of birth, reached with their link",
    "intake:link_step": "the client's own form, after their link and date of birth",
    "intake:link_done": "a thank-you to the client who sent the form",
    "intake:link_opt_out": "the client's own page, reached with their link",
    "screening:catalogue": "the rule catalogue and the clinic's vocabulary: no client",
}
# Actions (POST): they change something and redirect, or show a page listed above again
# (the visit page and the screening report log their reads when they render).
ACTIONS = {
    "intake:visit_plan", "intake:visit_complete", "intake:visit_defer", "intake:visit_cancel",
    "screening:screen", "screening:visit_clearance_add", "screening:acknowledge",
    "screening:dismiss", "screening:resolve", "screening:count", "screening:form_reviewed",
    "followup:escalation_acknowledge", "followup:escalation_resolve",
    "followup:mark_called",
}  # fmt: skip
# Pages open to front desk that show therapists more (reasons, notes): logged for them.
AUDITED_FOR_THERAPISTS = {"followup:escalation_queue"}

# The cast's object of each model, for its admin's change and history pages.
ADMIN_OBJECTS = {
    "intake.Client": "client",
    "intake.Visit": "visit",
    "intake.Intake": "intake",
    "intake.HealthRecordAccess": "access",
    "screening.Screening": "screening",
    "screening.ScreeningFlag": "flag",
    "screening.Clearance": "clearance",
    "followup.CheckIn": "checkin",
    "followup.CheckInAnswer": "answer",
    "followup.Escalation": "escalation",
}


def _app_view_names() -> set[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return {n for n in names if n.split(":")[0] in ("intake", "screening", "followup", "messaging")}


def test_every_url_pattern_is_audited_or_shows_no_health_data():
    audited = {name for name, _ in HEALTH_PAGES.values()}
    classified = audited | AUDITED_FOR_THERAPISTS | set(NOT_HEALTH_PAGES) | ACTIONS
    assert _app_view_names() == classified
    assert not audited & set(NOT_HEALTH_PAGES)


def test_the_escalation_queue_logs_a_therapists_read_but_shows_front_desk_no_health(
    world, browsers, therapist
):
    url = reverse("followup:escalation_queue")
    HealthRecordAccess.objects.all().delete()
    assert browsers("front_desk").get(url).status_code == 200
    assert not HealthRecordAccess.objects.exists()
    assert browsers("therapist").get(url).status_code == 200
    row = HealthRecordAccess.objects.get()
    assert (row.user, row.client, row.what, row.path) == (
        therapist,
        world.client,
        "escalation queue",
        url,
    )


def _admin_urls(model_admin, world) -> dict[str, str]:
    from simple_history.admin import SimpleHistoryAdmin

    opts = model_admin.model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    urls = {"list": reverse(f"{prefix}_changelist")}
    attr = ADMIN_OBJECTS.get(opts.label)
    if attr:
        obj = getattr(world, attr)
        urls["change"] = reverse(f"{prefix}_change", args=[obj.pk])
        urls["history"] = reverse(f"{prefix}_history", args=[obj.pk])
        if isinstance(model_admin, SimpleHistoryAdmin) and obj.history.exists():
            version = obj.history.latest().history_id
            urls["history version"] = reverse(f"{prefix}_simple_history", args=[obj.pk, version])
    return urls


def _clients_shown(model, url_kind: str, world) -> set[int]:
    from staff.access import CLIENT_PATHS

    path = CLIENT_PATHS[model._meta.label]
    rows = model._default_manager.all()
    if url_kind != "list":
        rows = rows.filter(pk=getattr(world, ADMIN_OBJECTS[model._meta.label]).pk)
    return set(rows.values_list(path, flat=True))


@pytest.mark.parametrize("role", ["front_desk", "therapist", "superuser"])
def test_every_admin_view_showing_health_data_writes_a_row_per_client(role, world, browsers):
    from django.contrib import admin

    from staff import access
    from staff.roles import FRONT_DESK, OWNER, THERAPIST

    staff_role = {"front_desk": FRONT_DESK, "therapist": THERAPIST, "superuser": OWNER}[role]
    web = browsers(role)
    user = {"front_desk": "frank", "therapist": "tess", "superuser": "owner"}[role]
    checked = []
    for model, model_admin in admin.site._registry.items():
        health = access.shows_health(staff_role, model._meta.label)
        for kind, url in _admin_urls(model_admin, world).items():
            HealthRecordAccess.objects.all().delete()
            response = web.get(url)
            rows = HealthRecordAccess.objects.filter(user__username=user)
            if response.status_code != 200:
                assert response.status_code in (403, 404, 302), (url, response.status_code)
                assert not rows.exists(), f"{url}: a refused page logged a read"
                continue
            if not health:
                assert not rows.exists(), f"{url} logged a read but shows no health data"
                continue
            expected = _clients_shown(model, kind, world)
            assert set(rows.values_list("client_id", flat=True)) == expected, url
            assert rows.count() == len(expected), f"{url}: one row per client"
            assert {r.path for r in rows} == {url.split("?")[0]}
            checked.append(url)
    if role == "front_desk":
        assert not checked
    else:
        # Intakes, screenings, flags, clearances, answers, escalations and (for the health
        # fields) visits: lists, change pages and history pages all logged.
        assert len(checked) >= 20, checked
