"""Score medspaCy's ConText against the screener's own ConText-style rules on the corpus.

Not part of `make bench` and not a project dependency: run it in a separate environment
that has medspacy installed, from the repository root:

    python -m bench.context_compare

Cases: the context cases and the red flags in words of tests/screening/corpus/. For each,
the mention's span comes from the catalogue's own matcher (so both judge the same words),
and the question is the one that matters for screening: does this mention count? Expected:
the corpus label. For medspaCy a mention does not count when ConText marks it negated,
family, historical or hypothetical (its defaults, no safety overrides). Prints accuracy,
the misses, and the time per document of each.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from clinical.catalogue import get_catalogue
from clinical.catalogue.context import ContextRules

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "screening" / "corpus"


def cases() -> list[tuple[str, str, bool]]:
    """Return (text, rule code, counts?) for every labelled context and red-flag case."""
    out = []
    for case in yaml.safe_load((CORPUS / "context.yaml").read_text(encoding="utf-8")):
        text = case.get("text") or case.get("medication")
        for code in case.get("not") or ():
            out.append((text, code, False))
        for code in case.get("must") or ():
            out.append((text, code, True))
    flags = yaml.safe_load((CORPUS / "red_flags.yaml").read_text(encoding="utf-8"))
    for flag, texts in flags.items():
        code = "radiating_pain_at_intake" if flag == "radiating" else "intake_red_flag_symptoms"
        out.extend((text, code, True) for text in texts)
    return out


def spans(text: str, code: str) -> list[tuple[int, int]]:
    cat = get_catalogue()
    found = []
    for matcher in (cat.condition_keywords, cat.medication_keywords):
        for start, end, targets in matcher.finditer(text):
            if any(t.rule >= 0 and cat.rules[t.rule].code == code for t in targets):
                found.append((start, end))
    return found


def ours(text: str, code: str) -> bool:
    """Return whether the screener counts the mention (its engine, safety rules included)."""
    from clinical.intake import parse_intake
    from screening.engine import screen

    intake = {"date_of_birth": "1980-01-01", "visit_date": "2026-11-20"}
    intake["planned_modality"] = "swedish"
    if text.lower().startswith(("stopped warfarin", "i came off", "i used to take")):
        intake["medications"] = [text]
    else:
        intake["free_text"] = text
    result = screen(parse_intake(intake), get_catalogue())
    return code in {flag.code for flag in result.flags}


def theirs(nlp, text: str, code: str) -> bool:
    from medspacy.ner import TargetRule

    matcher = nlp.get_pipe("medspacy_target_matcher")
    found = spans(text, code)
    matcher.add([TargetRule(text[s:e], code) for s, e in found])
    doc = nlp(text)
    counted = False
    for ent in doc.ents:
        if ent.label_ != code:
            continue
        ctx = ent._
        if not (ctx.is_negated or ctx.is_family or ctx.is_historical or ctx.is_hypothetical):
            counted = True
    return counted


def main() -> None:
    import medspacy

    nlp = medspacy.load()
    rules = ContextRules(
        yaml.safe_load(
            (Path(__file__).resolve().parent.parent / "clinical/catalogue/language.yaml").read_text(
                encoding="utf-8"
            )
        )["context"]
    )
    labelled = cases()
    score = {"ours": 0, "medspacy": 0}
    misses: dict[str, list] = {"ours": [], "medspacy": []}
    times: dict[str, list[float]] = {"ours": [], "medspacy": []}
    for text, code, expected in labelled:
        t0 = time.perf_counter()
        mine = ours(text, code)
        times["ours"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        other = theirs(nlp, text, code)
        times["medspacy"].append(time.perf_counter() - t0)
        for name, got in (("ours", mine), ("medspacy", other)):
            if got == expected:
                score[name] += 1
            else:
                misses[name].append((text, code, "counts" if expected else "does not count"))
    # Context alone, without the engine: the cost of reading one mention's context.
    t0 = time.perf_counter()
    for text, _code, _expected in labelled:
        lowered = text.lower()
        rules.assess(lowered, 0, min(5, len(lowered)), year=2026)
    context_only = (time.perf_counter() - t0) / len(labelled)
    n = len(labelled)
    for name in ("ours", "medspacy"):
        median = statistics.median(times[name]) * 1000
        print(f"{name:9} {score[name]}/{n} right ({score[name] / n:.0%}); {median:.3f} ms/doc")
        for miss in misses[name]:
            print(f"    missed: {miss}")
    print(f"context rules alone: {context_only * 1e6:.1f} us/mention")


if __name__ == "__main__":
    main()
