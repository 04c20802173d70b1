"""A form posted with mistakes on the long screening report: the page opens with the list of
what to correct focused at its top, and each item's link takes the keyboard to its field."""

from __future__ import annotations

import pytest

from tests.browser.pages import page_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(open_page):
    tab = open_page(page_named("report-clearance-errors"))
    page = tab.page
    summary = page.locator("#form-errors")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert summary.bounding_box()["y"] < 900, "the summary is on the first screen"
    tab.shot("report-clearance-errors")
    summary.get_by_role("link", name="Clearance, doctor: This field is required.").click()
    page.keyboard.type("Dr Ada Okafor")
    assert page.locator("#id_clearance_doctor_name").input_value() == "Dr Ada Okafor"
    assert page.locator("#id_clearance_doctor_name").is_visible()
    tab.assert_clean()
