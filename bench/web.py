"""Rows 2 and 3: the intake form POST and the check-in answer page over real HTTP.

gunicorn (2 workers, 127.0.0.1) serves the app on the bench PostgreSQL database; the floor
views (clinic/bench_views.py) run in the same server. Floor and figure alternate in rounds
so that a burst of noise on this shared machine hits both, and their results are pooled.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from bench.loadgen import Budget, LoadResult, Session, make_sessions, run_load
from bench.seed import PASSWORD, THERAPIST
from clinical.catalogue import get_catalogue
from intake.forms import condition_code

TARGET_INTAKE_RATE = 0.5  # of the floor's requests/s
TARGET_INTAKE_P95 = 3.0  # times the floor's p95
TARGET_ANSWER_RATE = 0.7


def intake_form_data(intake: dict, client) -> dict[str, object]:
    """Turn an intake JSON dict into the intake form's fields (intake/forms.py IntakeForm)."""
    rules_by_code = {}
    for _category, rules in get_catalogue().condition_choices():
        for rule in rules:
            for code in rule.condition_codes:
                rules_by_code.setdefault(code, rule)
    data: dict[str, object] = {
        "visit_date": intake["visit_date"],
        "planned_modality": intake["planned_modality"],
        "focus_regions": intake["focus_regions"],
        "medications": "\n".join(intake["medications"]),
        "allergies": "\n".join(intake["allergies"]),
        "red_flags": intake["red_flags"],
        "free_text": intake["free_text"],
        "consent": "on",
        "signature_name": client.full_name,
    }
    pregnancy = intake.get("pregnancy") or {}
    if pregnancy.get("pregnant"):
        data["pregnant"] = "on"
        data["pregnancy_weeks"] = pregnancy.get("weeks") or ""
        data["pregnancy_due_date"] = pregnancy.get("due_date") or ""
    illness = intake.get("recent_illness")
    if illness:
        data["recent_illness_name"] = illness.get("name") or ""
        data["recent_illness_recovered_on"] = illness.get("recovered_on") or ""
    pain = intake.get("current_pain")
    if pain:
        data["pain_score"] = pain["score"]
        data["pain_character"] = pain["character"]
        data["pain_regions"] = pain["regions"]
        if pain["radiating"]:
            data["pain_radiating"] = "on"
    other = 0
    for condition in intake["conditions"]:
        rule = rules_by_code.get(condition["code"])
        if rule is not None and f"cond_{rule.code}" not in data:
            name = f"cond_{rule.code}"
            assert condition_code(rule)  # the form stores this code for the rule
        else:
            name = f"other_{other}"
            data[f"{name}_code"] = condition["code"]
            other += 1
        data[name] = "on"
        if condition["acute"]:
            data[f"{name}_acute"] = "on"
        data[f"{name}_notes"] = condition["notes"]
    return data


def alternate(
    base: str,
    *,
    seconds: float,
    users: int,
    rounds: int,
    floor: Callable[[Session, int], None],
    figure: Callable[[Session, int], None],
    prepare: Callable[[Session, int], None] | None = None,
    figure_budget: int = 1_000_000,
    warmup: float = 1.0,
) -> tuple[LoadResult, LoadResult]:
    """Run floor and figure in alternating rounds of seconds/rounds each; pool the results.

    Each side keeps its users (connections, cookies, logins) across rounds; the figure's
    budget is shared across rounds so that each prepared item (a token) is used once.
    """
    sessions = {
        "floor": make_sessions(base, users, prepare),
        "figure": make_sessions(base, users, prepare),
    }
    budgets = {"floor": Budget(1_000_000), "figure": Budget(figure_budget)}
    operations = {"floor": floor, "figure": figure}
    pooled: dict[str, LoadResult] = {}
    for _ in range(rounds):
        for name in ("floor", "figure"):
            result = run_load(
                name,
                sessions[name],
                seconds=seconds / rounds,
                operation=operations[name],
                budget=budgets[name],
                warmup=warmup,
            )
            pooled[name] = _pool(pooled.get(name), result)
    return pooled["floor"], pooled["figure"]


def _pool(total: LoadResult | None, part: LoadResult) -> LoadResult:
    if total is None:
        return part
    return LoadResult(
        name=part.name,
        seconds=total.seconds + part.seconds,
        ops=total.ops + part.ops,
        errors=total.errors + part.errors,
        latencies=total.latencies + part.latencies,
        error_samples=(total.error_samples + part.error_samples)[:5],
        stopped_by_budget=total.stopped_by_budget or part.stopped_by_budget,
    )


def login_as_therapist(session: Session, _i: int) -> None:
    session.login(THERAPIST, PASSWORD)


def intake_row(
    base: str, *, clients, intakes: list[dict], seconds, users, rounds, warmup: float = 1.0
) -> dict:
    """Measure the intake form POST against a one-INSERT POST, both logged in."""
    forms = [
        intake_form_data(intake, clients[i % len(clients)]) for i, intake in enumerate(intakes)
    ]
    paths = [
        reverse("intake:intake_create", args=[clients[i % len(clients)].pk])
        for i in range(len(forms))
    ]
    floor_path = reverse("bench_floor:insert")

    def floor(session: Session, n: int) -> None:
        session.request("POST", floor_path, {"n": str(n)}, expect=(302,))

    def figure(session: Session, n: int) -> None:
        i = n % len(forms)
        session.request("POST", paths[i], forms[i], expect=(302,))

    floor_r, figure_r = alternate(
        base,
        seconds=seconds,
        users=users,
        rounds=rounds,
        floor=floor,
        figure=figure,
        prepare=login_as_therapist,
        warmup=warmup,
    )
    return {"floor": floor_r.summary(), "figure": figure_r.summary()}


def _client_address(n: int) -> str:
    # Each simulated client answers from its own address (ten operations per address), as
    # real clients do; the token endpoints' per-IP rate limit stays on and is measured.
    k = n // 10 + 1
    return f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


def answer_row(
    base: str, *, tokens: list[str], seconds, users, rounds, warmup: float = 1.0
) -> dict:
    """Measure GET + POST of the check-in answer page against a bare form GET + INSERT POST."""
    form_path, insert_path = reverse("bench_floor:form"), reverse("bench_floor:insert")

    def floor(session: Session, n: int) -> None:
        _, html = session.request("GET", form_path)
        form = {"csrfmiddlewaretoken": session.csrf_from(html), "n": str(n)}
        session.request("POST", insert_path, form, expect=(302,))

    def figure(session: Session, n: int) -> None:
        path = reverse("followup:answer", args=[tokens[n]])
        session.extra_headers = {"X-Forwarded-For": _client_address(n)}
        _, html = session.request("GET", path)
        worse = n % 10 == 0  # one answer in ten is worse than the baseline: an escalation
        form = {
            "csrfmiddlewaretoken": session.csrf_from(html),
            "score": "8" if worse else str(n % 4),
            "character": "sharp" if worse else "dull",
            "radiating": "no",
            "note": "",
        }
        _, done = session.request("POST", path, form)
        if 'name="score"' in done:
            raise AssertionError(f"{path}: the answer form came back instead of the advice")

    floor_r, figure_r = alternate(
        base,
        seconds=seconds,
        users=users,
        rounds=rounds,
        floor=floor,
        figure=figure,
        figure_budget=len(tokens),
        warmup=warmup,
    )
    return {"floor": floor_r.summary(), "figure": figure_r.summary(), "tokens": len(tokens)}


def rows(intake: dict | None, answer: dict | None) -> list[dict]:
    out = []
    if intake:
        f, fl = intake["figure"], intake["floor"]
        rate = f["rate_per_s"] / fl["rate_per_s"] if fl["rate_per_s"] else 0.0
        p95 = f["p95_ms"] / fl["p95_ms"] if fl["p95_ms"] else float("inf")
        out.append(
            {
                "row": "2a Intake form POST: throughput",
                "figure": f"{f['rate_per_s']:,.1f} req/s",
                "floor": f"{fl['rate_per_s']:,.1f} req/s",
                "ratio": f"{rate:.0%}",
                "target": f">= {TARGET_INTAKE_RATE:.0%} of floor",
                "ok": rate >= TARGET_INTAKE_RATE and f["errors"] == 0,
            }
        )
        out.append(
            {
                "row": "2b Intake form POST: latency p50 / p95",
                "figure": f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} ms",
                "floor": f"{fl['p50_ms']:.1f} / {fl['p95_ms']:.1f} ms",
                "ratio": f"p95 x{p95:.2f}",
                "target": f"p95 <= x{TARGET_INTAKE_P95:g} floor",
                "ok": p95 <= TARGET_INTAKE_P95 and f["errors"] == 0,
            }
        )
    if answer:
        f, fl = answer["figure"], answer["floor"]
        rate = f["rate_per_s"] / fl["rate_per_s"] if fl["rate_per_s"] else 0.0
        out.append(
            {
                "row": "3  Check-in page GET+POST (answers/s; p50/p95)",
                "figure": f"{f['rate_per_s']:,.1f}/s; {f['p50_ms']:.0f}/{f['p95_ms']:.0f} ms",
                "floor": f"{fl['rate_per_s']:,.1f}/s; {fl['p50_ms']:.0f}/{fl['p95_ms']:.0f} ms",
                "ratio": f"{rate:.0%}",
                "target": f">= {TARGET_ANSWER_RATE:.0%} of floor",
                "ok": rate >= TARGET_ANSWER_RATE and f["errors"] == 0,
            }
        )
    return out
