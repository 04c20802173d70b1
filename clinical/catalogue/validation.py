"""Check a raw catalogue (the parsed YAML) and name every problem with the rule it is about.

Run by the system check at start and before compiling, so a bad catalogue never screens.
"""

from __future__ import annotations

import re
from typing import Any

from clinical import vocabulary

SPECIALS = frozenset(
    {
        "any_condition_acute_true",
        "recent_illness_days_lt_7",
        "current_pain_sharp_in_back",
        "current_pain_radiating",
        "intake_red_flags",
        "pregnancy_weeks_ge_28",
        "pregnancy_weeks_lt_28",
    }
)
MATCH_KEYS = frozenset(
    {
        "condition_codes",
        "keywords",
        "medication_keywords",
        "allergy_keywords",
        "requires_acute",
        "special",
        "back_regions",
        "red_flags",
        "context_keywords",
        "also_when",
        "also_when_text",
    }
)
RULE_KEYS = ("code", "title", "category", "severity", "actions", "sources", "match")


def validate_catalogue(raw: Any) -> list[str]:
    """Return every problem in a raw catalogue; each message names the rule it is about."""
    if not isinstance(raw, dict):
        return ["catalogue: must be a mapping"]
    errors: list[str] = []
    if not raw.get("version"):
        errors.append("catalogue: missing version")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules:
        errors.append("catalogue: rules must be a non-empty list")
        rules = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            errors.append(f"rules[{index}]: must be a mapping")
            continue
        code = rule.get("code")
        label = f"rule {code!r}" if isinstance(code, str) and code else f"rules[{index}]"
        if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9_]+", code):
            errors.append(f"{label}: code must be a lower-case identifier")
        elif code in seen:
            errors.append(f"{label}: duplicate code")
        else:
            seen.add(code)
        _check_rule(rule, label, errors)

    precautions = raw.get("universal_precautions")
    if not isinstance(precautions, list):
        errors.append("catalogue: universal_precautions must be a list")
        precautions = []
    for index, item in enumerate(precautions):
        if not isinstance(item, dict):
            errors.append(f"universal_precautions[{index}]: must be a mapping")
            continue
        label = f"universal precaution {item.get('code', index)!r}"
        if not item.get("code") or not item.get("title"):
            errors.append(f"{label}: missing code or title")
        _check_regions(item.get("avoid_regions"), f"{label}: avoid_regions", errors)
        _check_sources(item.get("sources"), label, errors)
    return errors


def _check_rule(rule: dict[str, Any], label: str, errors: list[str]) -> None:
    categories = {c.code for c in vocabulary.CONDITION_CATEGORIES}
    for key in RULE_KEYS:
        if key not in rule:
            errors.append(f"{label}: missing {key}")
    if not isinstance(rule.get("title", ""), str) or not rule.get("title"):
        errors.append(f"{label}: title must be a non-empty string")
    if "severity" in rule and rule["severity"] not in vocabulary.FLAG_SEVERITIES:
        errors.append(f"{label}: unknown severity {rule['severity']!r}")
    if "category" in rule and rule["category"] not in categories:
        errors.append(f"{label}: unknown category {rule['category']!r}")
    avoid_modalities = _strings(rule.get("avoid_modalities"), f"{label}: avoid_modalities", errors)
    known_modalities = {*vocabulary.MODALITY_CODES, vocabulary.ALL_MODALITIES}
    for name in avoid_modalities:
        if name not in known_modalities:
            errors.append(f"{label}: unknown modality {name!r} in avoid_modalities")
    if vocabulary.ALL_MODALITIES in avoid_modalities and len(avoid_modalities) > 1:
        errors.append(f"{label}: 'all' must be alone in avoid_modalities")
    _check_regions(rule.get("avoid_regions"), f"{label}: avoid_regions", errors)
    if "actions" in rule and not _strings(rule.get("actions"), f"{label}: actions", errors):
        errors.append(f"{label}: actions must not be empty")
    _check_sources(rule.get("sources"), label, errors)
    if "note" in rule and not isinstance(rule["note"], str):
        errors.append(f"{label}: note must be a string")
    if "match" in rule:
        _check_match(rule["match"], label, errors)


def _check_regions(value: Any, label: str, errors: list[str]) -> None:
    for name in _strings(value, label, errors):
        if name not in vocabulary.AVOIDANCE_REGIONS:
            errors.append(f"{label.split(':')[0]}: unknown region {name!r} in avoid_regions")


def _strings(value: Any, label: str, errors: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append(f"{label} must be a list of non-empty strings")
        return []
    return value


def _check_sources(sources: Any, label: str, errors: list[str]) -> None:
    if not isinstance(sources, list) or not sources:
        errors.append(f"{label}: missing sources")
        return
    for index, source in enumerate(sources):
        if not isinstance(source, dict):
            errors.append(f"{label}: sources[{index}] must be a mapping")
            continue
        if not isinstance(source.get("doc"), str) or not source["doc"].strip():
            errors.append(f"{label}: sources[{index}] missing doc")
        if not isinstance(source.get("quote"), str) or not source["quote"].strip():
            errors.append(f"{label}: sources[{index}] missing quote")


def _check_match(match: Any, label: str, errors: list[str]) -> None:
    if not isinstance(match, dict):
        errors.append(f"{label}: match must be a mapping")
        return
    for key in sorted(set(match) - MATCH_KEYS):
        errors.append(f"{label}: unknown match key {key!r}")
    special = match.get("special")
    if special is not None and special not in SPECIALS:
        errors.append(f"{label}: unknown special matcher {special!r}")
    lists = ("condition_codes", "keywords", "medication_keywords", "allergy_keywords")
    for key in lists:
        _strings(match.get(key), f"{label}: match.{key}", errors)
    if not special and not any(match.get(key) for key in (*lists, "context_keywords")):
        errors.append(f"{label}: match has nothing to match on")
    if match.get("requires_acute") not in (None, True, False):
        errors.append(f"{label}: match.requires_acute must be true, false or absent")
    for name in _strings(match.get("back_regions"), f"{label}: match.back_regions", errors):
        if vocabulary.normalise_region(name) is None:
            errors.append(f"{label}: unknown region {name!r} in match.back_regions")
    red_flags = {f.code for f in vocabulary.INTAKE_RED_FLAGS}
    for name in _strings(match.get("red_flags"), f"{label}: match.red_flags", errors):
        if name not in red_flags:
            errors.append(f"{label}: unknown red flag {name!r} in match.red_flags")
    if special == "current_pain_sharp_in_back" and not match.get("back_regions"):
        errors.append(f"{label}: current_pain_sharp_in_back needs match.back_regions")
    if special == "intake_red_flags" and not match.get("red_flags"):
        errors.append(f"{label}: intake_red_flags needs match.red_flags")
    for index, context in enumerate(match.get("context_keywords") or []):
        where = f"{label}: match.context_keywords[{index}]"
        if not isinstance(context, dict):
            errors.append(f"{where} must be a mapping")
            continue
        if not _strings(context.get("keywords"), f"{where}.keywords", errors):
            errors.append(f"{where}.keywords must not be empty")
        if not _strings(context.get("requires_any"), f"{where}.requires_any", errors):
            errors.append(f"{where}.requires_any must not be empty")
    also_when = match.get("also_when")
    if also_when is not None:
        if not isinstance(also_when, dict):
            errors.append(f"{label}: match.also_when must be a mapping")
            return
        _strings(
            also_when.get("condition_codes"), f"{label}: match.also_when.condition_codes", errors
        )
        _strings(also_when.get("keywords"), f"{label}: match.also_when.keywords", errors)
        if also_when.get("requires_acute") not in (None, True, False):
            errors.append(f"{label}: match.also_when.requires_acute must be true, false or absent")


SUPPLEMENTARY_RULE_KEYS = (*RULE_KEYS, "tier")


def validate_supplementary(raw: Any, seed_codes: list[str]) -> list[str]:
    """Return every problem in the supplementary tier; codes must be unique across tiers."""
    if not isinstance(raw, dict):
        return ["supplementary: must be a mapping"]
    errors: list[str] = []
    if not raw.get("version"):
        errors.append("supplementary: missing version")
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules:
        return [*errors, "supplementary: rules must be a non-empty list"]
    seen = set(seed_codes)
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            errors.append(f"supplementary rules[{index}]: must be a mapping")
            continue
        code = rule.get("code")
        label = f"supplementary rule {code!r}" if code else f"supplementary rules[{index}]"
        if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9_]+", code):
            errors.append(f"{label}: code must be a lower-case identifier")
        elif code in seen:
            where = "the seed tier" if code in seed_codes else "this tier"
            errors.append(f"{label}: duplicate code (already in {where})")
        else:
            seen.add(code)
        if rule.get("tier") != "supplementary":
            errors.append(f"{label}: tier must be 'supplementary'")
        extends = rule.get("extends")
        if extends is not None:
            if extends not in seed_codes:
                errors.append(f"{label}: extends an unknown seed rule {extends!r}")
            _check_sources(rule.get("sources"), label, errors)
            if "match" in rule:
                _check_match(rule["match"], label, errors)
            continue
        for key in SUPPLEMENTARY_RULE_KEYS:
            if key not in rule:
                errors.append(f"{label}: missing {key}")
        rule_errors: list[str] = []
        _check_rule(rule, label, rule_errors)
        errors += [e for e in rule_errors if not e.endswith("missing tier")]
    return errors
