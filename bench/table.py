"""Print the one results table."""

from __future__ import annotations

COLUMNS = (
    ("row", "Row"),
    ("figure", "Figure"),
    ("floor", "Floor"),
    ("ratio", "Ratio (% of floor)"),
    ("fair", "Fair floor"),
    ("fair_ratio", "% of fair floor"),
    ("target", "Target"),
    ("result", "Result"),
)


def _result(row: dict) -> str:
    if row.get("error"):
        return "ERROR"
    return {True: "pass", False: "FAIL", None: "info"}[row.get("ok")]


def render(rows: list[dict]) -> str:
    cells = [
        [str(row.get(key, "")) if key != "result" else _result(row) for key, _ in COLUMNS]
        for row in rows
    ]
    headers = [title for _, title in COLUMNS]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    for row, c in zip(rows, cells, strict=True):
        out.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        if row.get("error"):
            out.append(f"    error: {row['error']}")
    return "\n".join(out)
