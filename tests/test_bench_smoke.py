"""The bench modules import and one tiny iteration of each runs (nothing here is timed).

`make bench` itself (bench/run.py) needs PostgreSQL, Redis, gunicorn and a Celery worker and
takes minutes; these tests keep its pieces working against the code as it changes.
"""

from __future__ import annotations

import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from bench import dispatch, engine, intakes, pages, seed, table, web
from clinical import vocabulary
from intake.forms import IntakeForm
from tests.factories import ClientFactory

BENCH_MODULES = [
    "bench.dispatch",
    "bench.engine",
    "bench.fair",
    "bench.infra",
    "bench.intakes",
    "bench.loadgen",
    "bench.pages",
    "bench.run",
    "bench.seed",
    "bench.sinks",
    "bench.table",
    "bench.urls",
    "bench.vocab",
    "bench.web",
    "clinic.bench_views",
]


@pytest.fixture(scope="session")
def _plain_http_live_server():
    """Serve the live server over plain HTTP (as tests/browser/conftest.py does).

    The session-scoped live server builds its middleware once, when it starts, so the
    function-scoped `_plain_http` fixture of tests/conftest.py comes too late for it.
    """
    from django.test import override_settings

    plain = override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    )
    plain.enable()
    yield
    plain.disable()


@pytest.fixture(scope="session")
def live_server(_plain_http_live_server, live_server):
    return live_server


@pytest.fixture
def floor_urls(settings):
    """Route the floor views, as the bench's server does with BENCH_FLOOR=1."""
    settings.ROOT_URLCONF = "tests.bench_urls"


@pytest.mark.parametrize("name", BENCH_MODULES)
def test_bench_module_imports(name):
    importlib.import_module(name)


def test_generated_intakes_reach_every_decision_level():
    from clinical.intake import parse_intake
    from screening.engine import screen

    results = [screen(parse_intake(i)) for i in intakes.generate(300)]

    mix = intakes.decision_mix(results)
    assert set(mix) == set(vocabulary.SEVERITY_ORDER)
    assert all(mix.values()), mix


@pytest.mark.parametrize("kind", intakes.FREE_TEXT_KINDS)
def test_generated_free_text_is_of_the_kind_asked_for(kind):
    texts = [i["free_text"] for i in intakes.generate(50, free_text=kind)]
    if kind == "none":
        assert not any(texts)
    else:
        assert all(texts) if kind == "realistic" else any(texts)


def test_engine_row_runs_one_tiny_round():
    result = engine.measure(count=20, rounds=1)

    assert result["engine"]["per_s"] > 0
    assert result["parse_and_screen"]["cost_ratio"] > 0
    assert result["free_text"]["per_s"] > 0
    assert len(engine.rows(result)) == 3
    assert "Screening" in table.render(engine.rows(result))


@pytest.mark.django_db
def test_bench_intakes_fill_the_real_intake_form():
    client = ClientFactory()
    for payload in intakes.generate(40, seed=3, today=timezone.localdate()):
        form = IntakeForm(web.intake_form_data(payload, client), client=client)

        assert form.is_valid(), form.errors


@pytest.mark.django_db(transaction=True)
def test_http_rows_run_one_tiny_iteration(live_server, floor_urls, settings):
    # As behind the bench's proxy: each simulated client has its own address, so the
    # token endpoints' per-address rate limit does not refuse the load.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cast = seed.staff()
    made = seed.clinic(cast, count=4, today_visits=2)
    assert seed.scheduled_visits(cast, made["clients"]) == 4
    tokens = seed.sent_checkins(cast, made["clients"], 6)
    fair_tokens = seed.sent_checkins(cast, made["clients"], 6)
    # The live server runs in this process: compile the catalogue (about a second) before
    # the short measuring window rather than in it.
    from screening.services import current_catalogue

    current_catalogue()

    intake = web.intake_row(
        live_server.url,
        clients=made["clients"],
        intakes=intakes.generate(3),
        seconds=1.5,
        users=1,
        rounds=1,
        warmup=0,
    )
    answer = web.answer_row(
        live_server.url,
        tokens=tokens,
        fair_tokens=fair_tokens,
        seconds=0.3,
        users=1,
        rounds=1,
        warmup=0,
    )

    for result in (intake, answer):
        for side in ("floor", "fair", "figure"):
            assert result[side]["errors"] == 0, result[side]["error_samples"]
        assert result["floor"]["ops"] > 0, result
    assert intake["figure"]["ops"] > 0, intake
    rows = web.rows(intake, answer)
    assert len(rows) == 4
    assert all(row["fair_ratio"] for row in rows)


@pytest.mark.django_db
def test_pages_row_runs_one_tiny_iteration(floor_urls):
    cast = seed.staff()
    made = seed.clinic(cast, count=5, today_visits=2)

    result = pages.measure(cast, made["regular"].pk, samples=2)

    assert {p["page"] for p in result["pages"]} == {label for label, _, _ in pages.pages(1)}
    assert all(p["queries"] > 0 for p in result["pages"])
    assert len(pages.rows(result)) == len(result["pages"])


@pytest.mark.django_db(transaction=True)
def test_dispatch_counts_every_message_once(tmp_path, monkeypatch, settings, celery_in_process):
    settings.EMAIL_BACKEND = "bench.sinks.CountingEmailBackend"
    monkeypatch.setenv("BENCH_SINK_DIR", str(tmp_path))
    cast = seed.staff()
    first, last = seed.due_checkins(cast, seed.clients(2), 6)
    assert dispatch._bulk_update_floor(first, last) > 0

    started = timezone.now()
    ticks, timed_out = dispatch.drive(first, last, 6, timeout=30)
    result = dispatch.outcome(
        first, last, sink_dir=str(tmp_path), started=started, timed_out=timed_out
    )

    assert not timed_out
    assert result["sent"] == result["messages"] == 6
    assert result["duplicates"] == 0
    assert result["left_behind"] == 0
    assert [r["ok"] for r in dispatch.rows(dict(result, ticks=ticks, floor_per_s=1, timeout=1))]


def _row_counts() -> dict[str, int]:
    from followup.models import CheckInAnswer, Escalation
    from intake.models import Intake, Visit
    from screening.models import Screening, ScreeningFlag

    models = (Intake, Visit, Screening, ScreeningFlag, CheckInAnswer, Escalation)
    counts = {}
    for model in models:
        counts[model.__name__] = model.objects.count()
        counts[f"history of {model.__name__}"] = (
            model.history.model.objects.count() if hasattr(model, "history") else 0
        )
    return counts


def _delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in before if after[k] != before[k]}


@pytest.mark.django_db
def test_the_fair_floors_write_the_rows_the_real_pages_write(client, floor_urls, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cast = seed.staff()
    made = seed.clinic(cast, count=4, today_visits=0)
    seed.scheduled_visits(cast, made["clients"])
    person = made["clients"][1]
    form = web.intake_form_data(intakes.generate(1, seed=5)[0], person)
    client.force_login(cast.therapist)

    deltas = []
    for name in ("intake:intake_create", "bench_floor:fair_intake"):
        before = _row_counts()
        response = client.post(reverse(name, args=[person.pk]), form)
        assert response.status_code == 302
        deltas.append(_delta(before, _row_counts()))
    real, fair = deltas
    assert real == fair
    assert real["Intake"] == real["Screening"] == 1
    assert real["history of Visit"] == 1

    client.logout()
    tokens = seed.sent_checkins(cast, made["clients"], 6)
    deltas = []
    for name, token in (("followup:answer", tokens[0]), ("bench_floor:fair_answer", tokens[3])):
        before = _row_counts()
        url = reverse(name, args=[token])
        assert client.get(url).status_code == 200
        answer = {"score": "9", "character": "sharp", "radiating": "no", "note": ""}
        assert client.post(url, answer).status_code == 200
        deltas.append(_delta(before, _row_counts()))
    assert deltas[0] == deltas[1] == {"CheckInAnswer": 1, "Escalation": 1}
