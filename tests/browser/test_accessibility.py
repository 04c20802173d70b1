"""axe-core on every page of each role and every client page, at desktop and phone widths:
no violation of serious or critical impact, nor of the structure rules a new user tripped
over (heading order, empty table headers)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.pages import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = ("desktop", "phone")
BLOCKING = ("serious", "critical")
# Rules of lesser impact that still fail the test.
ALSO_BLOCKING = ("heading-order", "empty-table-header")
# Violations that only a change to an admin class (*/admin.py) can fix, by (page, width):
# each must keep failing until fixed (strict), then this entry goes.
ADMIN_CLASS_FIXES: dict[tuple[str, str], str] = {}

_axe = Axe()


def _cases():
    for page in PAGES:
        for width in WIDTHS:
            reason = ADMIN_CLASS_FIXES.get((page.name, width))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(page, width, id=f"{page.name}-{width}", marks=marks)


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['failureSummary']!r}")
    return "\n".join(lines)


@pytest.mark.parametrize(("page", "width"), list(_cases()))
def test_no_serious_or_critical_accessibility_violation(open_page, page, width):
    tab = open_page(page, phone=width == "phone")
    # The page itself logged nothing (CSP included); axe's own probes may, so check first.
    tab.assert_clean()
    violations = _axe.run(tab.page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING or v["id"] in ALSO_BLOCKING]
    assert not blocking, f"{page.name} at {width} width:\n{_describe(blocking)}"
