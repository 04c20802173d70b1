"""Row 1: the screening engine on one core, against json.loads of the same intakes.

Rows 1a and 1b screen structured intakes (no free text); row 1c realistic intakes whose free
text mentions health matters as clients write them (lay terms, brand names, family and past
history), which the engine reads with its language rules and, lazily, the drug dictionary.
Passes over the same generated intakes, interleaved round by round so that noise from other
work on the machine hits all of them alike:
- floor: json.loads of each intake's JSON text;
- engine: screen() on already parsed IntakeData (the engine alone);
- parse+screen: screen(parse_intake(obj)) on decoded dicts (what the views and commands do);
- free text: parse+screen of the realistic intakes (their own json.loads floor).
Each figure is its best round (noise only ever slows a round down), and the cost ratio is
best against best, so the table's ratio is exactly floor rate / figure rate. The median of
the per-round ratios is kept in results.json as a check on noise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time

from bench.intakes import decision_mix, generate
from clinical.intake import parse_intake
from screening.engine import screen

TARGET_PER_SECOND = 20_000
TARGET_RATIO = 5.0
TARGET_FREE_TEXT_PER_SECOND = 5_000


# json.loads is some 5x faster than screening, so its pass repeats the list this many times:
# passes of similar length meet the same noise (a short pass more easily hits a quiet moment,
# which would flatter the floor). Times are per pass over the list once.
FLOOR_REPEAT = 5


def _pass(fn, items, repeat: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        for item in items:
            fn(item)
    return (time.perf_counter() - t0) / repeat


def measure(count: int = 4_000, rounds: int = 9) -> dict:
    """Return the engine figures for `count` intakes over `rounds` interleaved rounds."""
    today = dt.date.today()
    intakes = generate(count, today=today, free_text="none")
    texts = [json.dumps(i) for i in intakes]
    parsed = [parse_intake(i, today=today) for i in intakes]
    mix = decision_mix([screen(p) for p in parsed])  # also warms the matchers' memo
    realistic = generate(count, today=today, seed=20261121, free_text="realistic")
    realistic_texts = [json.dumps(i) for i in realistic]
    # Warm up: the first text loads the drug dictionary (seconds, once per process).
    realistic_mix = decision_mix([screen(parse_intake(i, today=today)) for i in realistic])

    def parse_and_screen(obj):
        return screen(parse_intake(obj, today=today))

    # One core: pin this process to one CPU while measuring, then restore.
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity:
        os.sched_setaffinity(0, {min(affinity)})
    try:
        floor_t, engine_t, full_t, text_floor_t, text_t = [], [], [], [], []
        for _ in range(rounds):
            floor_t.append(_pass(json.loads, texts, FLOOR_REPEAT))
            engine_t.append(_pass(screen, parsed))
            full_t.append(_pass(parse_and_screen, intakes))
            text_floor_t.append(_pass(json.loads, realistic_texts, FLOOR_REPEAT))
            text_t.append(_pass(parse_and_screen, realistic))
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)

    floor_rate = count / min(floor_t)
    return {
        "intakes": count,
        "rounds": rounds,
        "mean_json_bytes": round(sum(map(len, texts)) / count),
        "decision_mix": mix,
        "floor_json_loads_per_s": floor_rate,
        "engine": {
            "per_s": count / min(engine_t),
            "cost_ratio": min(engine_t) / min(floor_t),
            "median_round_ratio": statistics.median(
                e / f for e, f in zip(engine_t, floor_t, strict=True)
            ),
        },
        "parse_and_screen": {
            "per_s": count / min(full_t),
            "cost_ratio": min(full_t) / min(floor_t),
            "median_round_ratio": statistics.median(
                e / f for e, f in zip(full_t, floor_t, strict=True)
            ),
        },
        "free_text": {
            "per_s": count / min(text_t),
            "floor_per_s": count / min(text_floor_t),
            "cost_ratio": min(text_t) / min(text_floor_t),
            "mean_json_bytes": round(sum(map(len, realistic_texts)) / count),
            "decision_mix": realistic_mix,
        },
    }


def rows(result: dict) -> list[dict]:
    """Return the table rows for the engine figures."""
    floor = f"{result['floor_json_loads_per_s']:,.0f}/s json.loads"
    out = []
    for key, label in (
        ("engine", "1a Screening: structured, engine alone"),
        ("parse_and_screen", "1b Screening: structured, parse_intake + screen"),
    ):
        figure = result[key]
        ok = figure["per_s"] >= TARGET_PER_SECOND and figure["cost_ratio"] <= TARGET_RATIO
        out.append(
            {
                "row": label,
                "figure": f"{figure['per_s']:,.0f} intakes/s",
                "floor": floor,
                "ratio": f"cost x{figure['cost_ratio']:.2f}",
                "target": f">= {TARGET_PER_SECOND:,}/s, cost <= x{TARGET_RATIO:g}",
                "ok": ok,
            }
        )
    figure = result["free_text"]
    out.append(
        {
            "row": "1c Screening: realistic intakes with free text",
            "figure": f"{figure['per_s']:,.0f} intakes/s",
            "floor": f"{figure['floor_per_s']:,.0f}/s json.loads",
            "ratio": f"cost x{figure['cost_ratio']:.2f}",
            "target": f">= {TARGET_FREE_TEXT_PER_SECOND:,}/s",
            "ok": figure["per_s"] >= TARGET_FREE_TEXT_PER_SECOND,
        }
    )
    return out
