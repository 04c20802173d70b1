"""Row 5: staff pages with 10,000 clients: queries per page and p95 render time.

In-process with Django's test client on the bench database (DEBUG off, as in production).
The floor is an empty staff page on the site layout (clinic/bench_views.floor_page), timed
in the same interleaved loop. That query counts do not grow with rows is enforced by
tests/test_page_queries.py in `make test`; here the counts are printed at full size.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followup.models import Escalation, EscalationStatus

SAMPLES = 20


def pages(regular_client_id: int) -> list[tuple[str, str, str]]:
    """Return (label, who, url) for every page measured."""
    return [
        ("Therapist day list", "therapist", reverse("intake:today")),
        (
            "Client page (12 visits)",
            "therapist",
            reverse("intake:client_detail", args=[regular_client_id]),
        ),
        ("Client list", "therapist", reverse("intake:client_list")),
        ("Escalation queue", "therapist", reverse("followup:escalation_queue")),
        ("No-response list", "therapist", reverse("followup:no_response")),
        ("Admin: clients", "owner", reverse("admin:intake_client_changelist")),
        ("Admin: visits", "owner", reverse("admin:intake_visit_changelist")),
        ("Admin: intakes", "owner", reverse("admin:intake_intake_changelist")),
        ("Admin: screenings", "owner", reverse("admin:screening_screening_changelist")),
        ("Admin: check-ins", "owner", reverse("admin:followup_checkin_changelist")),
        ("Admin: escalations", "owner", reverse("admin:followup_escalation_changelist")),
    ]


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url}: HTTP {response.status_code}")


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(cast, regular_client_id: int, samples: int = SAMPLES) -> dict:
    browsers = {}
    for who, user in (("therapist", cast.therapist), ("owner", cast.owner)):
        browser = Client(HTTP_HOST="127.0.0.1")
        browser.force_login(user)
        browsers[who] = browser
    floor_url = reverse("bench_floor:page")
    targets = pages(regular_client_id)
    out = {
        "open_escalations": Escalation.objects.filter(status=EscalationStatus.OPEN).count(),
        "pages": [],
    }
    for browser in browsers.values():
        _get(browser, floor_url)  # warm: session, content types, templates
    for label, who, url in targets:
        browser = browsers[who]
        _get(browser, url)
        with CaptureQueriesContext(connection) as queries:
            _get(browser, url)
        # Read now: the next request resets the log.
        query_count = len(queries.captured_queries)
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        floor_t, page_t = [], []
        for _ in range(samples):
            t0 = time.perf_counter()
            _get(browser, floor_url)
            t1 = time.perf_counter()
            _get(browser, url)
            t2 = time.perf_counter()
            floor_t.append(t1 - t0)
            page_t.append(t2 - t1)
        out["pages"].append(
            {
                "page": label,
                "url": url,
                "queries": query_count,
                "sql_ms_one_load": sql_ms,
                "p50_ms": statistics.median(page_t) * 1000,
                "p95_ms": _p95(page_t) * 1000,
                "floor_p95_ms": _p95(floor_t) * 1000,
            }
        )
    return out


def rows(result: dict) -> list[dict]:
    out = []
    for page in result["pages"]:
        out.append(
            {
                "row": f"5  {page['page']}",
                "figure": (
                    f"{page['queries']} queries ({page['sql_ms_one_load']:.0f} ms SQL); "
                    f"p95 {page['p95_ms']:.0f} ms"
                ),
                "floor": f"p95 {page['floor_p95_ms']:.0f} ms",
                "ratio": f"x{page['p95_ms'] / page['floor_p95_ms']:.1f}",
                "target": "queries flat (make test)",
                "ok": None,
            }
        )
    return out
