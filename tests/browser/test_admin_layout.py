"""The front desk's visit list on a 1366 px laptop: every column shows whole (the screening
decision and the follow-up summary included), with nothing beyond the window's width."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.pages import FRONT_DESK, Page, page_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIPPED = """(screen) => ({
  document: document.documentElement.scrollWidth,
  headers: [...document.querySelectorAll("#result_list thead th")].map((th) => th.innerText.trim()),
  // A cell past the right edge of the scrolling box around the table is cut off too.
  clipped: [...document.querySelectorAll("#result_list th, #result_list td")]
    .filter((cell) => cell.scrollWidth > cell.clientWidth + 1
      || cell.getBoundingClientRect().right > screen + 0.5
      || cell.getBoundingClientRect().right
        > cell.closest(".results").getBoundingClientRect().right + 0.5)
    .map((cell) => `${cell.className || cell.tagName}: ${cell.innerText.trim().slice(0, 40)}`),
})"""


# Today's visits at every screening level, and completed ones with their longest follow-up
# summaries ("1/3 answered · escalation open").
BUSY_DAY = Page(
    "fd-admin-visits-busy",
    FRONT_DESK,
    lambda t: t.with_queue(t.with_no_response(t.with_today("/admin/intake/visit/"))),
)


@pytest.mark.parametrize("page", [page_named("fd-admin-visits"), BUSY_DAY], ids=str)
def test_no_column_of_the_visit_list_is_cut_at_1366_px(open_page, page):
    tab = open_page(page)
    tab.shot(f"desktop/{page.name}")
    found = tab.page.evaluate(CLIPPED, DESKTOP["width"])
    assert {"Screening", "Follow-up"} <= {h.capitalize() for h in found["headers"]}, found
    assert found["document"] == DESKTOP["width"], found
    assert not found["clipped"], found["clipped"]
    tab.assert_clean()
