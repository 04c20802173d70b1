"""The page list (tests/browser/pages.py) holds every page of the product: each named URL
of the staff and client pages, the sign-in's second step, and the admin's list and change
page of every registered model (with its own extra pages). A URL that is not a page to look
at (a form's target, a download, a redirect) is listed here with the reason.

A new view without a line in either place fails here, so axe, the plain-words check and the
phone layout check always run on every page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from tests.browser.pages import PAGES, Tour

pytestmark = pytest.mark.django_db

FORM_TARGET = "POST only: the answer is a redirect to its page, or that page with the errors"
NOT_PAGES: dict[str, str] = {
    "home": "redirects to the role's first page",
    "favicon": "redirects to the icon",
    "health": "JSON for the load balancer",
    "logout": "POST only: signs out and redirects",
    "intake:visit_plan": FORM_TARGET,
    "intake:visit_complete": FORM_TARGET,
    "intake:visit_defer": FORM_TARGET,
    "intake:visit_cancel": FORM_TARGET,
    "screening:screen": FORM_TARGET,
    "screening:visit_clearance_add": FORM_TARGET + " (report-clearance-errors)",
    "screening:acknowledge": FORM_TARGET,
    "screening:dismiss": FORM_TARGET,
    "screening:resolve": FORM_TARGET,
    "screening:count": FORM_TARGET,
    "screening:clearance_document": "a download (the letter), never a page",
    "screening:form_reviewed": FORM_TARGET,
    "intake:link_done": "reached only by sending the form (form-done, a step of the form link)",
    "followup:escalation_acknowledge": FORM_TARGET,
    "followup:escalation_resolve": FORM_TARGET,
    "followup:mark_called": FORM_TARGET,
    "admin:logout": "POST only: signs out and shows the staff sign-in page",
    "admin:jsi18n": "a script",
    "admin:autocomplete": "JSON for the client field's search",
    "admin:view_on_site": "redirects to the object's page",
    "admin:otp_totp_totpdevice_qrcode": "an image (the QR code)",
}
# Admin pages of every model not looked at on their own: Django's shared templates, already
# covered by the add, delete and history pages of some model.
ADMIN_PAGE_SUFFIXES = ("_add", "_delete", "_history", "_changelist", "_change")


def _named_urls() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return {name for name in names if not name.startswith("bench_floor:")}


def _required() -> set[str]:
    """Every page that must be in the list: the named URLs, but of the admin's per-model
    pages only each model's list and change page."""
    required = {name for name in _named_urls() if not name.endswith(ADMIN_PAGE_SUFFIXES)}
    for model in admin.site._registry:
        label = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        required |= {f"{label}_changelist", f"{label}_change"}
    return required


def _view_name(path: str) -> str:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return "(no page: the not-found page)"


def _listed() -> set[str]:
    tour = Tour()
    return {_view_name(page.path(tour)) for page in PAGES}


def test_every_page_is_in_the_page_list_or_has_a_reason_not_to_be():
    listed = _listed()
    missing = _required() - listed - set(NOT_PAGES)
    assert not missing, f"add these pages to tests/browser/pages.py: {sorted(missing)}"


def test_every_reason_names_a_url_that_exists_and_is_not_a_listed_page():
    stale = set(NOT_PAGES) - _named_urls()
    assert not stale, f"no such URL: {sorted(stale)}"
    assert not set(NOT_PAGES) & _listed()


def test_the_page_names_are_unique():
    names = [page.name for page in PAGES]
    assert len(names) == len(set(names))
