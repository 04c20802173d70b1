"""The screening rule catalogue: load catalogue.yaml, validate it, compile it once.

The catalogue is data that clinicians review (catalogue.yaml beside this file); this package
turns it into frozen dataclasses (model.py) and precompiled matchers (matcher.py) so that
screening an intake never parses YAML or compiles a regex. validation.py names every problem.
Nothing here imports Django.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from clinical import vocabulary
from clinical.catalogue.matcher import (
    KeywordMatcher,
    Target,
    canonical_phrase,
    compile_alternation,
    keyword_matcher,
)
from clinical.catalogue.model import Catalogue, CatalogueError, Precaution, Rule, Source
from clinical.catalogue.validation import validate_catalogue
from clinical.vocabulary import ALL_MODALITIES, normalise_code

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

__all__ = [
    "ALL_MODALITIES",
    "CATALOGUE_PATH",
    "Catalogue",
    "CatalogueError",
    "KeywordMatcher",
    "Precaution",
    "Rule",
    "Source",
    "Target",
    "canonical_phrase",
    "compile_catalogue",
    "get_catalogue",
    "load_raw",
    "normalise_code",
    "validate_catalogue",
]


def load_raw(path: Path | None = None) -> Any:
    """Read the catalogue YAML; raise CatalogueError if it cannot be read or parsed."""
    path = path or CATALOGUE_PATH
    try:
        with open(path, encoding="utf-8") as f:
            # libyaml's loader when present: the catalogue is large and read at every start.
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError([f"cannot load {path.name}: {exc}"]) from exc


@functools.cache
def get_catalogue() -> Catalogue:
    """Return the app's catalogue, loaded, validated and compiled once per process."""
    return compile_catalogue(load_raw(CATALOGUE_PATH))


def compile_catalogue(raw: Any) -> Catalogue:
    """Validate a raw catalogue and build the dataclasses and matchers the engine uses."""
    errors = validate_catalogue(raw)
    if errors:
        raise CatalogueError(errors)
    matching = raw.get("keyword_matching") or {}
    whole_words = frozenset(canonical_phrase(w) for w in matching.get("whole_words") or ())

    rules: list[Rule] = []
    condition_targets: dict[str, list[Target]] = {}
    keyword_targets: dict[str, list[Target]] = {}
    medication_targets: dict[str, list[Target]] = {}
    allergy_targets: dict[str, list[Target]] = {}
    special_rules: dict[str, list[int]] = {}
    for index, item in enumerate(raw["rules"]):
        rule = _rule(index, item)
        rules.append(rule)
        match = item["match"]
        if rule.special:
            special_rules.setdefault(rule.special, []).append(index)
        target = Target(index, rule.requires_acute)
        for code in rule.condition_codes:
            condition_targets.setdefault(code, []).append(target)
        for keyword in rule.keywords:
            keyword_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for keyword in rule.medication_keywords:
            medication_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for keyword in rule.allergy_keywords:
            allergy_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for context in match.get("context_keywords") or ():
            required = compile_alternation(context["requires_any"], whole_words)
            context_target = Target(index, rule.requires_acute, required)
            for keyword in context["keywords"]:
                keyword_targets.setdefault(canonical_phrase(keyword), []).append(context_target)
        also_when = match.get("also_when")
        if also_when:
            also_target = Target(index, also_when.get("requires_acute"))
            for code in also_when.get("condition_codes") or ():
                condition_targets.setdefault(normalise_code(code), []).append(also_target)
            for keyword in also_when.get("keywords") or ():
                keyword_targets.setdefault(canonical_phrase(keyword), []).append(also_target)

    return Catalogue(
        version=str(raw["version"]),
        rules=tuple(rules),
        universal_precautions=tuple(_precaution(p) for p in raw["universal_precautions"]),
        condition_targets={k: tuple(v) for k, v in condition_targets.items()},
        condition_keywords=keyword_matcher(keyword_targets, whole_words),
        medication_keywords=keyword_matcher(medication_targets, whole_words),
        allergy_keywords=keyword_matcher(allergy_targets, whole_words),
        special_rules={k: tuple(v) for k, v in special_rules.items()},
    )


def _rule(index: int, item: dict[str, Any]) -> Rule:
    match = item["match"]
    return Rule(
        code=item["code"],
        title=item["title"],
        category=item["category"],
        severity=item["severity"],
        avoid_modalities=tuple(item.get("avoid_modalities") or ()),
        avoid_regions=tuple(item.get("avoid_regions") or ()),
        actions=tuple(item["actions"]),
        sources=tuple(Source(s["doc"], s["quote"]) for s in item["sources"]),
        note=item.get("note") or "",
        special=match.get("special"),
        condition_codes=tuple(normalise_code(c) for c in match.get("condition_codes") or ()),
        keywords=tuple(match.get("keywords") or ()),
        medication_keywords=tuple(match.get("medication_keywords") or ()),
        allergy_keywords=tuple(match.get("allergy_keywords") or ()),
        requires_acute=match.get("requires_acute"),
        # back_regions are intake regions, so compare them after alias normalisation.
        back_regions=tuple(
            vocabulary.normalise_region(r) or r for r in match.get("back_regions") or ()
        ),
        red_flags=tuple(match.get("red_flags") or ()),
        order=index,
    )


def _precaution(item: dict[str, Any]) -> Precaution:
    return Precaution(
        code=item["code"],
        title=item["title"],
        avoid_regions=tuple(item.get("avoid_regions") or ()),
        actions=tuple(item.get("actions") or ()),
        sources=tuple(Source(s["doc"], s["quote"]) for s in item["sources"]),
    )
