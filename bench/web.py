"""Rows 2 and 3: the intake form POST and the check-in answer page over real HTTP.

gunicorn (2 workers, 127.0.0.1) serves the app on the bench PostgreSQL database; the floor
views (clinic/bench_views.py) and the fair floors (bench/fair.py) run in the same server,
routed by the bench's URLconf (bench/urls.py). Floor and figure alternate in rounds
so that a burst of noise on this shared machine hits both, and their results are pooled.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from bench.loadgen import Budget, LoadResult, Session, make_sessions, run_load
from bench.seed import PASSWORD, THERAPIST
from clinical.catalogue import get_catalogue
from intake.forms import condition_code

# Targets against the plain floor. The fair floor (bench/fair.py) is shown beside it: the
# same statements in raw SQL, so the gap to it is the framework's work (forms, templates, ORM).
TARGET_INTAKE_RATE = 0.45  # of the floor's requests/s
TARGET_INTAKE_P95 = 2.5  # times the floor's p95
TARGET_ANSWER_RATE = 0.40
TARGET_ANSWER_P95 = 2.5


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
    sides: dict[str, Callable[[Session, int], None]],
    prepare: Callable[[Session, int], None] | None = None,
    budgets: dict[str, int] | None = None,
    warmup: float = 1.0,
) -> dict[str, LoadResult]:
    """Run each side (floor, fair floor, figure) in alternating rounds; pool the results.

    Each side keeps its users (connections, cookies, logins) across rounds; a side's budget
    is shared across rounds so that each prepared item (a token) is used once.
    """
    budgets = budgets or {}
    sessions = {name: make_sessions(base, users, prepare) for name in sides}
    counters = {name: Budget(budgets.get(name, 1_000_000)) for name in sides}
    pooled: dict[str, LoadResult] = {}
    for _ in range(rounds):
        for name, operation in sides.items():
            result = run_load(
                name,
                sessions[name],
                seconds=seconds / rounds,
                operation=operation,
                budget=counters[name],
                warmup=warmup,
            )
            pooled[name] = _pool(pooled.get(name), result)
    return pooled


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


def _stored(session: Session) -> None:
    # A redirect elsewhere (to sign in, to the second step) would be measured as a success.
    if not session.location.startswith("/intakes/"):
        raise AssertionError(f"the intake POST redirected to {session.location!r}")


def intake_row(
    base: str, *, clients, intakes: list[dict], seconds, users, rounds, warmup: float = 1.0
) -> dict:
    """Measure the intake form POST against a one-INSERT POST and its fair floor, logged in.

    Every client has a scheduled visit, so each POST also re-screens it (bench/seed.py).
    """
    forms = [
        intake_form_data(intake, clients[i % len(clients)]) for i, intake in enumerate(intakes)
    ]
    paths = [
        reverse("intake:intake_create", args=[clients[i % len(clients)].pk])
        for i in range(len(forms))
    ]
    fair_paths = [
        reverse("bench_floor:fair_intake", args=[clients[i % len(clients)].pk])
        for i in range(len(forms))
    ]
    floor_path = reverse("bench_floor:insert")

    def floor(session: Session, n: int) -> None:
        session.request("POST", floor_path, {"n": str(n)}, expect=(302,))

    def fair(session: Session, n: int) -> None:
        i = n % len(forms)
        session.request("POST", fair_paths[i], forms[i], expect=(302,))
        _stored(session)

    def figure(session: Session, n: int) -> None:
        i = n % len(forms)
        session.request("POST", paths[i], forms[i], expect=(302,))
        _stored(session)

    results = alternate(
        base,
        seconds=seconds,
        users=users,
        rounds=rounds,
        sides={"floor": floor, "fair": fair, "figure": figure},
        prepare=login_as_therapist,
        warmup=warmup,
    )
    return {name: result.summary() for name, result in results.items()}


def _client_address(n: int) -> str:
    # Each simulated client answers from its own address (ten operations per address), as
    # real clients do; the token endpoints' per-IP rate limit stays on and is measured.
    k = n // 10 + 1
    return f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"


def answer_row(
    base: str,
    *,
    tokens: list[str],
    fair_tokens: list[str],
    seconds,
    users,
    rounds,
    warmup: float = 1.0,
) -> dict:
    """Measure GET + POST of the check-in answer page against a bare form GET + INSERT POST
    and against its fair floor (which answers check-ins of its own)."""
    form_path, insert_path = reverse("bench_floor:form"), reverse("bench_floor:insert")

    def floor(session: Session, n: int) -> None:
        _, html = session.request("GET", form_path)
        form = {"csrfmiddlewaretoken": session.csrf_from(html), "n": str(n)}
        session.request("POST", insert_path, form, expect=(302,))

    def answer_form(n: int) -> dict:
        worse = n % 10 == 0  # one answer in ten is worse than the baseline: an escalation
        return {
            "score": "8" if worse else str(n % 4),
            "character": "sharp" if worse else "dull",
            "radiating": "no",
            "note": "",
        }

    def fair(session: Session, n: int) -> None:
        path = reverse("bench_floor:fair_answer", args=[fair_tokens[n]])
        session.extra_headers = {"X-Forwarded-For": _client_address(n)}
        session.request("GET", path)
        session.request("POST", path, answer_form(n))

    def figure(session: Session, n: int) -> None:
        path = reverse("followup:answer", args=[tokens[n]])
        session.extra_headers = {"X-Forwarded-For": _client_address(n)}
        _, html = session.request("GET", path)
        form = {"csrfmiddlewaretoken": session.csrf_from(html), **answer_form(n)}
        _, done = session.request("POST", path, form)
        if 'name="score"' in done:
            raise AssertionError(f"{path}: the answer form came back instead of the advice")

    results = alternate(
        base,
        seconds=seconds,
        users=users,
        rounds=rounds,
        sides={"floor": floor, "fair": fair, "figure": figure},
        budgets={"fair": len(fair_tokens), "figure": len(tokens)},
        warmup=warmup,
    )
    out = {name: result.summary() for name, result in results.items()}
    return dict(out, tokens=len(tokens), fair_tokens=len(fair_tokens))


def _ratios(result: dict) -> dict:
    f = result["figure"]
    out = {}
    for side in ("floor", "fair"):
        other = result.get(side)
        if not other:
            continue
        out[f"{side}_rate"] = f["rate_per_s"] / other["rate_per_s"] if other["rate_per_s"] else 0.0
        out[f"{side}_p95"] = f["p95_ms"] / other["p95_ms"] if other["p95_ms"] else float("inf")
    return out


def _pair(
    name: str, result: dict, *, unit: str, rate_target: float, p95_target: float
) -> list[dict]:
    """Return the throughput and latency rows of one HTTP path, against both floors."""
    f, fl, fa = result["figure"], result["floor"], result.get("fair") or {}
    r = _ratios(result)
    clean = f["errors"] == 0 and fa.get("errors", 0) == 0
    return [
        {
            "row": f"{name}: throughput",
            "figure": f"{f['rate_per_s']:,.1f} {unit}",
            "floor": f"{fl['rate_per_s']:,.1f} {unit}",
            "ratio": f"{r['floor_rate']:.0%}",
            "fair": f"{fa['rate_per_s']:,.1f} {unit}" if fa else "",
            "fair_ratio": f"{r['fair_rate']:.0%}" if fa else "",
            "target": f">= {rate_target:.0%} of floor",
            "ok": r["floor_rate"] >= rate_target and clean,
        },
        {
            "row": f"{name}: latency p50 / p95",
            "figure": f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} ms",
            "floor": f"{fl['p50_ms']:.1f} / {fl['p95_ms']:.1f} ms",
            "ratio": f"p95 x{r['floor_p95']:.2f}",
            "fair": f"{fa['p50_ms']:.1f} / {fa['p95_ms']:.1f} ms" if fa else "",
            "fair_ratio": f"p95 x{r['fair_p95']:.2f}" if fa else "",
            "target": f"p95 <= x{p95_target:g} floor",
            "ok": r["floor_p95"] <= p95_target and clean,
        },
    ]


def rows(intake: dict | None, answer: dict | None) -> list[dict]:
    out = []
    if intake:
        out += _pair(
            "2  Intake form POST",
            intake,
            unit="req/s",
            rate_target=TARGET_INTAKE_RATE,
            p95_target=TARGET_INTAKE_P95,
        )
    if answer:
        out += _pair(
            "3  Check-in page GET+POST",
            answer,
            unit="answers/s",
            rate_target=TARGET_ANSWER_RATE,
            p95_target=TARGET_ANSWER_P95,
        )
    return out
