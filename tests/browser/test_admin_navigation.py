"""Every role finds its work from the admin: the header links to the escalation queue and
the no-response list, and "View site" opens the role's first staff page (never the admin
again)."""

from __future__ import annotations

import pytest

from tests.browser.pages import page_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("name", "home"),
    [("admin", "/today/"), ("fd-admin", "/followup/escalations/"), ("su-admin", "/today/")],
)
def test_the_admin_leads_each_role_to_its_work(open_page, name, home):
    tab = open_page(page_named(name))
    page = tab.page
    nav = page.get_by_role("navigation", name="Clinic pages")
    for label, path in (
        ("Escalations", "/followup/escalations/"),
        ("No response", "/followup/no-response/"),
    ):
        with page.expect_navigation():
            nav.get_by_role("link", name=label, exact=True).click()
        assert page.url == tab.url(path)
        assert page.locator("h1").first.is_visible()
        page.go_back()
    tab.shot(f"admin-navigation-{name}")
    with page.expect_navigation():
        page.get_by_role("link", name="View site").click()
    assert page.url == tab.url(home), f"View site went to {page.url}"
    assert "/admin/" not in page.url
    tab.assert_clean()
