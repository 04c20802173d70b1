"""Who may open what (SPEC section 1), as one table per page, for every role.

Roles: anonymous, a client holding a link (anonymous, with a valid token), front desk,
therapist, superuser. Outcomes:

- OK: the view ran (200, a redirect elsewhere than the login page, or a form error 400/409);
- LOGIN: a redirect to a login page;
- DENIED: 403 or 404, with no health data in the body;
- GONE: 404 (the development outbox with DEBUG off, for the roles that may open it in
  development; an unknown link).

Every named URL of intake, screening and followup, plus health and login, must have a row:
a new view without one fails `test_every_view_has_a_row_in_the_table`.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from followup.models import CheckInAnswer
from tests.security.conftest import FREE_TEXT, MEDICATION, ROLES

pytestmark = pytest.mark.django_db

OK, LOGIN, DENIED, GONE = "OK", "LOGIN", "DENIED", "GONE"

#            anonymous  client_link  front_desk  therapist  superuser
HEALTH = dict(zip(ROLES, (LOGIN, LOGIN, DENIED, OK, OK), strict=True))
STAFF = dict(zip(ROLES, (LOGIN, LOGIN, OK, OK, OK), strict=True))
LINK = dict(zip(ROLES, (GONE, OK, OK, OK, OK), strict=True))  # anonymous: an unknown token
PUBLIC = dict(zip(ROLES, (OK, OK, OK, OK, OK), strict=True))
# The health form's thank-you page: only for the browser that sent the form with the link.
SENDER_ONLY = dict(zip(ROLES, (GONE,) * 5, strict=True))
# The development outbox: 404 with DEBUG off for the roles that may open it in development;
# the others are refused before that (staff.access, deny by default).
DEV_ONLY = dict(zip(ROLES, (LOGIN, LOGIN, DENIED, GONE, GONE), strict=True))

# view name: (method, kwargs built from the cast, expected outcome per role)
VIEWS = {
    "home": ("GET", {}, STAFF),
    "health": ("GET", {}, PUBLIC),
    "login": ("GET", {}, PUBLIC),
    "intake:today": ("GET", {}, HEALTH),
    "intake:client_list": ("GET", {}, HEALTH),
    "intake:client_create": ("GET", {}, HEALTH),
    "intake:client_detail": ("GET", {"client_id": "client"}, HEALTH),
    "intake:intake_create": ("GET", {"client_id": "client"}, HEALTH),
    "intake:visit_create": ("GET", {"client_id": "client"}, HEALTH),
    "intake:intake_detail": ("GET", {"intake_id": "intake"}, HEALTH),
    "intake:intake_diff": ("GET", {"intake_id": "intake"}, HEALTH),
    "intake:visit_detail": ("GET", {"visit_id": "visit"}, HEALTH),
    "intake:visit_plan": ("POST", {"visit_id": "visit"}, HEALTH),
    "intake:visit_complete": ("POST", {"visit_id": "visit"}, HEALTH),
    "intake:visit_defer": ("POST", {"visit_id": "visit"}, HEALTH),
    "intake:visit_cancel": ("POST", {"visit_id": "visit"}, HEALTH),
    "screening:report": ("GET", {"visit_id": "visit"}, HEALTH),
    "screening:screen": ("POST", {"visit_id": "visit"}, HEALTH),
    "screening:visit_clearance_add": ("POST", {"visit_id": "visit"}, HEALTH),
    "screening:acknowledge": ("POST", {"screening_id": "screening"}, HEALTH),
    "screening:dismiss": ("POST", {"flag_id": "flag"}, HEALTH),
    "screening:resolve": ("POST", {"flag_id": "flag"}, HEALTH),
    "screening:count": ("POST", {"screening_id": "screening", "index": 0}, HEALTH),
    "screening:catalogue": ("GET", {}, HEALTH),
    "screening:client_clearance_add": ("GET", {"client_id": "client"}, HEALTH),
    "screening:clearance_document": ("GET", {"clearance_id": "clearance"}, HEALTH),
    "screening:clearance_letter": ("GET", {"visit_id": "visit"}, HEALTH),
    "screening:record_summary": ("GET", {"visit_id": "visit"}, HEALTH),
    "followup:answer": ("GET", {"token": "token"}, LINK),
    "followup:opt_out": ("GET", {"token": "token"}, LINK),
    "intake:link": ("GET", {"token": "intake_token"}, LINK),
    "intake:link_step": ("GET", {"token": "intake_token", "slug": "about"}, LINK),
    "intake:link_done": ("GET", {"token": "intake_token"}, SENDER_ONLY),
    "intake:link_opt_out": ("GET", {"token": "intake_token"}, LINK),
    "screening:form_reviewed": ("POST", {"visit_id": "visit"}, HEALTH),
    "followup:escalation_queue": ("GET", {}, STAFF),
    "followup:escalation_acknowledge": ("POST", {"pk": "escalation"}, STAFF),
    "followup:escalation_resolve": ("POST", {"pk": "escalation"}, HEALTH),
    "followup:no_response": ("GET", {}, STAFF),
    "followup:mark_called": ("POST", {"pk": "silent_visit"}, STAFF),
    "followup:pain_chart": ("GET", {"pk": "done_visit"}, HEALTH),
    "messaging:outbox": ("GET", {}, DEV_ONLY),
}

#                         changelist, change, add  for front desk / therapist / superuser
ALL = (OK, OK, OK)
READ_ONLY = (OK, OK, DENIED)
NONE = (DENIED, DENIED, DENIED)
ADMIN = {
    "intake.client": ("client", ALL, ALL, ALL),
    "intake.visit": ("visit", ALL, ALL, ALL),
    "intake.intake": ("intake", NONE, READ_ONLY, READ_ONLY),
    "followup.checkin": ("checkin", READ_ONLY, READ_ONLY, READ_ONLY),
    "followup.checkinanswer": ("answer", NONE, READ_ONLY, READ_ONLY),
    "followup.escalation": ("escalation", READ_ONLY, READ_ONLY, READ_ONLY),
    "screening.screening": ("screening", NONE, READ_ONLY, READ_ONLY),
    "screening.clearance": ("clearance", NONE, READ_ONLY, READ_ONLY),
    "intake.healthrecordaccess": ("access", NONE, NONE, READ_ONLY),
}
# Words of the cast's health history that front desk must never be shown.
HEALTH_WORDS = (MEDICATION, FREE_TEXT, "herniated", "Baseline pain", "it burns")


def _named_views() -> set[str]:
    names = {"home", "health", "login"}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    apps = ("home", "health", "login", "intake", "screening", "followup", "messaging")
    return {n for n in names if n.split(":")[0] in apps}


def test_every_view_has_a_row_in_the_table():
    assert _named_views() == set(VIEWS)


def _outcome(response) -> str:
    location = response.get("Location", "")
    if response.status_code in (301, 302) and "login" in location:
        return LOGIN
    if response.status_code in (200, 301, 302, 400, 409):
        return OK
    if response.status_code in (403, 404):
        return DENIED
    return f"HTTP {response.status_code}"


def _kwargs(spec: dict, world, role: str) -> dict:
    kwargs = {}
    for name, attr in spec.items():
        if attr in ("token", "intake_token"):
            kwargs[name] = getattr(world, attr) if role != "anonymous" else "x" * 43
        elif name == "slug" or isinstance(attr, int):
            kwargs[name] = attr
        else:
            kwargs[name] = getattr(world, attr).pk
    return kwargs


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_each_role_gets_what_the_spec_allows(view, world, browsers):
    method, spec, expected = VIEWS[view]
    got = {}
    for role in ROLES:
        url = reverse(view, kwargs=_kwargs(spec, world, role))
        response = getattr(browsers(role), method.lower())(url)
        outcome = _outcome(response)
        if expected[role] == GONE:
            outcome = GONE if response.status_code == 404 else outcome
        got[role] = outcome
        if role == "front_desk" and outcome != OK:
            body = response.content.decode(errors="replace")
            assert not any(word in body for word in HEALTH_WORDS), f"{view}: health data shown"
    assert got == expected, _table(view, expected, got)


def _table(view: str, expected: dict, got: dict) -> str:
    rows = [f"{view}: role, expected, got"]
    rows += [f"  {r:<12} {expected[r]:<8} {got[r]}" for r in ROLES]
    return "\n".join(rows)


@pytest.mark.parametrize("model", sorted(ADMIN))
def test_each_role_gets_what_the_spec_allows_in_the_admin(model, world, browsers):
    attr, *by_role = ADMIN[model]
    app, name = model.split(".")
    pk = getattr(world, attr).pk
    urls = (
        reverse(f"admin:{app}_{name}_changelist"),
        reverse(f"admin:{app}_{name}_change", args=[pk]),
        reverse(f"admin:{app}_{name}_add"),
    )
    expected = {"anonymous": (LOGIN,) * 3, "client_link": (LOGIN,) * 3}
    expected |= dict(zip(("front_desk", "therapist", "superuser"), by_role, strict=True))
    got = {}
    for role in ROLES:
        web = browsers(role)
        outcomes = []
        for url in urls:
            response = web.get(url)
            outcomes.append(_outcome(response))
            if role == "front_desk" and response.status_code == 200:
                body = response.content.decode()
                shown = [word for word in HEALTH_WORDS if word in body]
                assert not shown, f"{url} shows front desk health data: {shown}"
        got[role] = tuple(outcomes)
    assert got == expected, _table(model, expected, got)


def test_front_desk_sees_a_visit_in_the_admin_without_its_health_fields(world, browsers):
    response = browsers("front_desk").get(
        reverse("admin:intake_visit_change", args=[world.visit.pk])
    )
    assert response.status_code == 200
    fields = set(response.context["adminform"].form.fields)
    readonly = {f.field["name"] for fieldset in response.context["adminform"] for line in fieldset
                for f in line if getattr(f, "is_readonly", False)}  # fmt: skip
    health = {"intake", "baseline_pain", "focus_regions", "status_reason"}
    assert not health & fields
    assert not health & readonly
    assert {"client", "therapist", "scheduled_at"} <= fields


def test_a_link_token_opens_only_its_own_checkin(world, browsers):
    web = browsers("client_link")
    response = web.post(
        reverse("followup:answer", args=[world.other_token]),
        {"score": "2", "character": "dull", "radiating": "no", "note": ""},
    )
    assert response.status_code == 200
    world.checkin.refresh_from_db()
    assert world.checkin.status == "sent"  # the cast's check-in is untouched
    assert not CheckInAnswer.objects.filter(checkin=world.checkin).exists()
    # A token is not a login: the staff pages still send its holder to log in.
    queue = web.get(reverse("followup:escalation_queue"))
    assert _outcome(queue) == LOGIN
