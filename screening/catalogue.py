"""Load, validate and compile the screening rule catalogue (screening/catalogue.yaml).

The catalogue is data that clinicians review; this module turns it once into frozen
dataclasses and precompiled matchers so that screening an intake never parses YAML or
compiles a regex. Nothing here imports Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

SEVERITIES = ("contraindicated", "clearance", "local", "modify")
SEVERITY_ORDER = (*SEVERITIES, "clear")
ALL_MODALITIES = "all"

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

# Separators between the words of a keyword or a code: '_' and '-' mean a space, and an
# article may be left out or added ('toward spinal canal' = 'toward the spinal canal').
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_SEP = r"[\s_\-]+(?:(?:the|an|a)[\s_\-]+)?"
# A keyword starts a word: not preceded by a letter or digit ('oil' is not in 'boil').
_WORD_START = r"(?<![^\W_])"
# A whole word ends at a word end, plural allowed; a lookahead so the hit stays the keyword.
_WORD_END = r"(?=(?:e?s)?(?![^\W_]))"
_CODE_SPLIT = re.compile(r"[\s\-]+")
# Bounded memo tables so repeated codes and drug names are matched once per process.
_MEMO_LIMIT = 10_000
_MEMO_TEXT_CHARS = 100


class CatalogueError(Exception):
    """Raise when the catalogue file cannot be loaded or is invalid."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Source:
    doc: str
    quote: str


@dataclass(frozen=True)
class Modality:
    code: str
    also_called: tuple[str, ...]


@dataclass(frozen=True)
class IntakeRegion:
    code: str
    also_called: tuple[str, ...]


@dataclass(frozen=True)
class RedFlag:
    code: str
    label: str
    also_called: tuple[str, ...]


@dataclass(frozen=True)
class ConditionCategory:
    code: str
    label: str


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    category: str
    severity: str
    avoid_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]
    actions: tuple[str, ...]
    sources: tuple[Source, ...]
    note: str
    special: str | None
    condition_codes: tuple[str, ...]
    keywords: tuple[str, ...]
    medication_keywords: tuple[str, ...]
    allergy_keywords: tuple[str, ...]
    requires_acute: bool | None
    back_regions: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    order: int = 0


@dataclass(frozen=True)
class Precaution:
    code: str
    title: str
    avoid_regions: tuple[str, ...]
    actions: tuple[str, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Target:
    """One way a keyword or code can flag a rule (a rule may have several clauses)."""

    rule: int
    requires_acute: bool | None
    context: re.Pattern[str] | None = None


@dataclass(frozen=True)
class KeywordMatcher:
    """Find catalogue keywords in a text with one precompiled regex.

    `pattern` is a trie-shaped alternation of every keyword inside a lookahead at each word
    start, so one C-level finditer reports overlapping hits ('large hernia' and 'hernia').
    A hit is canonicalised and looked up in `targets`, which already includes the shorter
    keywords hidden inside it at the same start.
    """

    pattern: re.Pattern[str] | None
    pattern_ci: re.Pattern[str] | None
    targets: Mapping[str, tuple[Target, ...]]
    _memo: dict[str, tuple[Target, ...]] = field(default_factory=dict, repr=False)
    _text_memo: dict[str, list[tuple[int, int, tuple[Target, ...]]]] = field(
        default_factory=dict, repr=False
    )

    def finditer_cached(self, text: str) -> list[tuple[int, int, tuple[Target, ...]]]:
        """Return finditer(text), remembered for short, repeating texts (codes, drug names).

        The returned list is shared between calls; callers must not change it.
        """
        hits = self._text_memo.get(text)
        if hits is None:
            hits = self.finditer(text)
            if len(text) <= _MEMO_TEXT_CHARS and len(self._text_memo) < _MEMO_LIMIT:
                self._text_memo[text] = hits
        return hits

    def finditer(self, text: str) -> list[tuple[int, int, tuple[Target, ...]]]:
        """Return (start, end, targets) for every keyword hit, overlapping ones included."""
        if self.pattern is None or not text:
            return []
        lowered = text.lower()
        pattern = self.pattern
        if len(lowered) != len(text):
            # Rare: lower() changed the length (e.g. 'İ'), so offsets would drift.
            lowered, pattern = text, self.pattern_ci
        hits = []
        memo = self._memo
        for m in pattern.finditer(lowered):
            hit = m.group(1)
            targets = memo.get(hit)
            if targets is None:
                targets = self.targets.get(canonical_phrase(hit), ())
                if len(memo) < _MEMO_LIMIT:
                    memo[hit] = targets
            if targets:
                start = m.start()
                hits.append((start, start + len(hit), targets))
        return hits


@dataclass(frozen=True, eq=False)
class Catalogue:
    version: str
    severity_order: tuple[str, ...]
    severity_levels: Mapping[str, str]
    modalities: tuple[Modality, ...]
    regions: tuple[str, ...]
    intake_regions: tuple[IntakeRegion, ...]
    intake_red_flags: tuple[RedFlag, ...]
    pain_characters: tuple[str, ...]
    condition_categories: tuple[ConditionCategory, ...]
    rules: tuple[Rule, ...]
    universal_precautions: tuple[Precaution, ...]
    # Compiled lookups (not part of the reviewed data).
    modality_codes: tuple[str, ...] = field(repr=False, default=())
    condition_targets: Mapping[str, tuple[Target, ...]] = field(repr=False, default_factory=dict)
    condition_keywords: KeywordMatcher | None = field(repr=False, default=None)
    medication_keywords: KeywordMatcher | None = field(repr=False, default=None)
    allergy_keywords: KeywordMatcher | None = field(repr=False, default=None)
    special_rules: Mapping[str, tuple[int, ...]] = field(repr=False, default_factory=dict)
    _modality_aliases: Mapping[str, str] = field(repr=False, default_factory=dict)
    _region_aliases: Mapping[str, str] = field(repr=False, default_factory=dict)
    _red_flag_aliases: Mapping[str, str] = field(repr=False, default_factory=dict)

    def rule(self, code: str) -> Rule:
        """Return the rule with this code (KeyError if unknown)."""
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)

    def normalise_modality(self, name: str) -> str | None:
        """Return the modality code for a code or also_called name, or None."""
        return self._modality_aliases.get(normalise_code(name))

    def normalise_region(self, name: str) -> str | None:
        """Return the intake region code for a code or also_called name, or None."""
        return self._region_aliases.get(normalise_code(name))

    def normalise_red_flag(self, name: str) -> str | None:
        """Return the intake red-flag code for a code or also_called name, or None."""
        return self._red_flag_aliases.get(normalise_code(name))

    def condition_choices(self) -> tuple[tuple[ConditionCategory, tuple[Rule, ...]], ...]:
        """Return rules a client can tick on the intake form, grouped by category.

        Only rules matched by condition codes are offered; rules that need acute=true are
        left out because the form's "acute now" toggle covers them (scoliosis appears once).
        """
        cached = _CONDITION_CHOICES.get(self.version)
        if cached is not None and cached[0] is self:
            return cached[1]
        groups = []
        for category in self.condition_categories:
            rules = tuple(
                rule
                for rule in self.rules
                if rule.category == category.code
                and rule.condition_codes
                and rule.requires_acute is not True
            )
            if rules:
                groups.append((category, rules))
        _CONDITION_CHOICES[self.version] = (self, tuple(groups))
        return _CONDITION_CHOICES[self.version][1]


def normalise_code(name: str) -> str:
    """Return a code in canonical form: lower case, spaces and hyphens as underscores."""
    return _CODE_SPLIT.sub("_", name.strip().lower())


def canonical_phrase(text: str) -> str:
    """Return a keyword or matched text as lower-case words without articles."""
    words = [w for w in _WORD_SPLIT.split(text.lower()) if w and w not in ("the", "a", "an")]
    return " ".join(words)


def load_raw(path: Path | None = None) -> Any:
    """Read the catalogue YAML; raise CatalogueError if it cannot be read or parsed."""
    path = path or CATALOGUE_PATH
    try:
        with open(path, encoding="utf-8") as f:
            # libyaml's loader when present: the catalogue is large and read at every start.
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError([f"cannot load {path.name}: {exc}"]) from exc


def validate_catalogue(raw: Any) -> list[str]:
    """Return every problem in a raw catalogue; each message names the rule it is about."""
    if not isinstance(raw, dict):
        return ["catalogue: must be a mapping"]
    errors: list[str] = []
    if not raw.get("version"):
        errors.append("catalogue: missing version")
    levels = raw.get("severity_levels") or {}
    if not isinstance(levels, dict) or set(levels) != set(SEVERITIES):
        errors.append(f"catalogue: severity_levels must be exactly {', '.join(SEVERITIES)}")
    if list(raw.get("severity_order") or []) != list(SEVERITY_ORDER):
        errors.append(f"catalogue: severity_order must be {list(SEVERITY_ORDER)}")

    modalities = _codes(raw.get("modalities"), "modalities", errors)
    regions = set(_strings(raw.get("regions"), "catalogue: regions", errors))
    intake_regions = _codes(raw.get("intake_regions"), "intake_regions", errors)
    region_names = intake_regions | {
        normalise_code(alias)
        for item in raw.get("intake_regions") or ()
        if isinstance(item, dict)
        for alias in item.get("also_called") or ()
        if isinstance(alias, str)
    }
    red_flags = _codes(raw.get("intake_red_flags"), "intake_red_flags", errors)
    categories = _codes(raw.get("condition_categories"), "condition_categories", errors)
    for region in sorted(regions - intake_regions):
        errors.append(f"intake_regions: catalogue region {region!r} is missing")
    if ALL_MODALITIES not in modalities:
        errors.append("modalities: the pseudo-code 'all' is missing")
    _check_aliases(raw.get("modalities"), "modalities", errors)
    _check_aliases(raw.get("intake_regions"), "intake_regions", errors)

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
        for key in RULE_KEYS:
            if key not in rule:
                errors.append(f"{label}: missing {key}")
        if not isinstance(rule.get("title", ""), str) or not rule.get("title"):
            errors.append(f"{label}: title must be a non-empty string")
        if "severity" in rule and rule["severity"] not in SEVERITIES:
            errors.append(f"{label}: unknown severity {rule['severity']!r}")
        if "category" in rule and rule["category"] not in categories:
            errors.append(f"{label}: unknown category {rule['category']!r}")
        avoid_modalities = _strings(
            rule.get("avoid_modalities"), f"{label}: avoid_modalities", errors
        )
        for name in avoid_modalities:
            if name not in modalities:
                errors.append(f"{label}: unknown modality {name!r} in avoid_modalities")
        if ALL_MODALITIES in avoid_modalities and len(avoid_modalities) > 1:
            errors.append(f"{label}: 'all' must be alone in avoid_modalities")
        for name in _strings(rule.get("avoid_regions"), f"{label}: avoid_regions", errors):
            if name not in regions:
                errors.append(f"{label}: unknown region {name!r} in avoid_regions")
        if "actions" in rule and not _strings(rule.get("actions"), f"{label}: actions", errors):
            errors.append(f"{label}: actions must not be empty")
        _check_sources(rule.get("sources"), label, errors)
        if "note" in rule and not isinstance(rule["note"], str):
            errors.append(f"{label}: note must be a string")
        if "match" in rule:
            _check_match(rule["match"], label, region_names, red_flags, errors)

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
        for name in _strings(item.get("avoid_regions"), f"{label}: avoid_regions", errors):
            if name not in regions:
                errors.append(f"{label}: unknown region {name!r} in avoid_regions")
        _check_sources(item.get("sources"), label, errors)
    return errors


def _codes(items: Any, name: str, errors: list[str]) -> set[str]:
    if not isinstance(items, list) or not items:
        errors.append(f"catalogue: {name} must be a non-empty list")
        return set()
    codes: set[str] = set()
    for index, item in enumerate(items):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code:
            errors.append(f"{name}[{index}]: missing code")
        elif code in codes:
            errors.append(f"{name}: duplicate code {code!r}")
        else:
            codes.add(code)
    return codes


def _strings(value: Any, label: str, errors: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append(f"{label} must be a list of non-empty strings")
        return []
    return value


def _check_aliases(items: Any, name: str, errors: list[str]) -> None:
    owner: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        names = [
            item["code"],
            *_strings(item.get("also_called"), f"{name} {item['code']!r}: also_called", errors),
        ]
        for alias in names:
            key = normalise_code(alias)
            if owner.setdefault(key, item["code"]) != item["code"]:
                errors.append(f"{name}: {alias!r} names both {owner[key]!r} and {item['code']!r}")


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


def _check_match(
    match: Any, label: str, intake_regions: set[str], red_flags: set[str], errors: list[str]
) -> None:
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
        if normalise_code(name) not in intake_regions:
            errors.append(f"{label}: unknown region {name!r} in match.back_regions")
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
        else:
            _strings(
                also_when.get("condition_codes"),
                f"{label}: match.also_when.condition_codes",
                errors,
            )
            _strings(also_when.get("keywords"), f"{label}: match.also_when.keywords", errors)
            if also_when.get("requires_acute") not in (None, True, False):
                errors.append(
                    f"{label}: match.also_when.requires_acute must be true, false or absent"
                )


# condition_choices() per catalogue version, kept with the catalogue it was computed from (a
# catalogue compiled again under the same version, as tests do, computes its own): the intake
# form asks for it on every request.
_CONDITION_CHOICES: dict[str, tuple[Catalogue, tuple]] = {}


@functools.cache
def get_catalogue() -> Catalogue:
    """Return the app's catalogue, loaded, validated and compiled once per process."""
    return compile_catalogue(load_raw())


def compile_catalogue(raw: Any) -> Catalogue:
    """Validate a raw catalogue and build the dataclasses and matchers the engine uses."""
    errors = validate_catalogue(raw)
    if errors:
        raise CatalogueError(errors)
    matching = raw.get("keyword_matching") or {}
    whole_words = frozenset(canonical_phrase(w) for w in matching.get("whole_words") or ())

    modalities = tuple(
        Modality(m["code"], tuple(m.get("also_called") or ()))
        for m in raw["modalities"]
        if m["code"] != ALL_MODALITIES
    )
    intake_regions = tuple(
        IntakeRegion(r["code"], tuple(r.get("also_called") or ())) for r in raw["intake_regions"]
    )
    red_flags = tuple(
        RedFlag(f["code"], f.get("label") or f["code"], tuple(f.get("also_called") or ()))
        for f in raw["intake_red_flags"]
    )
    region_aliases = _aliases(intake_regions)

    rules: list[Rule] = []
    condition_targets: dict[str, list[Target]] = {}
    keyword_targets: dict[str, list[Target]] = {}
    medication_targets: dict[str, list[Target]] = {}
    allergy_targets: dict[str, list[Target]] = {}
    special_rules: dict[str, list[int]] = {}
    for index, item in enumerate(raw["rules"]):
        match = item["match"]
        requires_acute = match.get("requires_acute")
        rule = Rule(
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
            requires_acute=requires_acute,
            # back_regions are intake regions, so compare them after alias normalisation.
            back_regions=tuple(
                region_aliases.get(normalise_code(r), r) for r in match.get("back_regions") or ()
            ),
            red_flags=tuple(match.get("red_flags") or ()),
            order=index,
        )
        rules.append(rule)
        if rule.special:
            special_rules.setdefault(rule.special, []).append(index)
        target = Target(index, requires_acute)
        for code in rule.condition_codes:
            condition_targets.setdefault(code, []).append(target)
        for keyword in rule.keywords:
            keyword_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for keyword in rule.medication_keywords:
            medication_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for keyword in rule.allergy_keywords:
            allergy_targets.setdefault(canonical_phrase(keyword), []).append(target)
        for context in match.get("context_keywords") or ():
            required = _compile_alternation(context["requires_any"], whole_words)
            context_target = Target(index, requires_acute, required)
            for keyword in context["keywords"]:
                keyword_targets.setdefault(canonical_phrase(keyword), []).append(context_target)
        also_when = match.get("also_when")
        if also_when:
            also_target = Target(index, also_when.get("requires_acute"))
            for code in also_when.get("condition_codes") or ():
                condition_targets.setdefault(normalise_code(code), []).append(also_target)
            for keyword in also_when.get("keywords") or ():
                keyword_targets.setdefault(canonical_phrase(keyword), []).append(also_target)

    precautions = tuple(
        Precaution(
            code=p["code"],
            title=p["title"],
            avoid_regions=tuple(p.get("avoid_regions") or ()),
            actions=tuple(p.get("actions") or ()),
            sources=tuple(Source(s["doc"], s["quote"]) for s in p["sources"]),
        )
        for p in raw["universal_precautions"]
    )
    return Catalogue(
        version=str(raw["version"]),
        severity_order=SEVERITY_ORDER,
        severity_levels=dict(raw["severity_levels"]),
        modalities=modalities,
        regions=tuple(raw["regions"]),
        intake_regions=intake_regions,
        intake_red_flags=red_flags,
        pain_characters=tuple(raw.get("pain_characters") or ()),
        condition_categories=tuple(
            ConditionCategory(c["code"], c.get("label") or c["code"])
            for c in raw["condition_categories"]
        ),
        rules=tuple(rules),
        universal_precautions=precautions,
        modality_codes=tuple(m.code for m in modalities),
        condition_targets={k: tuple(v) for k, v in condition_targets.items()},
        condition_keywords=_keyword_matcher(keyword_targets, whole_words),
        medication_keywords=_keyword_matcher(medication_targets, whole_words),
        allergy_keywords=_keyword_matcher(allergy_targets, whole_words),
        special_rules={k: tuple(v) for k, v in special_rules.items()},
        _modality_aliases=_aliases(modalities),
        _region_aliases=region_aliases,
        _red_flag_aliases=_aliases(red_flags),
    )


def _aliases(items: Iterable[Modality | IntakeRegion | RedFlag]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for item in items:
        aliases[normalise_code(item.code)] = item.code
        for alias in item.also_called:
            aliases.setdefault(normalise_code(alias), item.code)
    return aliases


def _keyword_regex(phrase: str, whole_words: frozenset[str]) -> str:
    words = phrase.split(" ")
    body = _SEP.join(re.escape(w) for w in words)
    return _WORD_START + body + (_WORD_END if phrase in whole_words else "")


def _compile_alternation(keywords: Iterable[str], whole_words: frozenset[str]) -> re.Pattern[str]:
    phrases = sorted({canonical_phrase(k) for k in keywords}, key=len, reverse=True)
    return re.compile("|".join(_keyword_regex(p, whole_words) for p in phrases), re.IGNORECASE)


def _keyword_matcher(
    targets: dict[str, list[Target]], whole_words: frozenset[str]
) -> KeywordMatcher:
    """Compile keywords into one trie-shaped regex plus a hit -> targets table.

    A trie (common prefixes factored out) keeps Python's backtracking regex from trying
    every keyword at every position. At one position the longest keyword wins, so each
    keyword's entry also carries the targets of shorter keywords that match inside it at
    the same start ('large hernia' also means 'large', 'metastases in spine' also 'metasta').
    """
    if not targets:
        return KeywordMatcher(None, None, {})
    singles = {p: re.compile(_keyword_regex(p, whole_words), re.IGNORECASE) for p in targets}
    table: dict[str, tuple[Target, ...]] = {}
    for phrase in targets:
        merged: list[Target] = []
        for other, pattern in singles.items():
            if other == phrase or pattern.match(phrase):
                merged.extend(t for t in targets[other] if t not in merged)
        table[phrase] = tuple(merged)
    trie: dict[str, Any] = {}
    for phrase in targets:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = phrase
    # Keywords are lower case and the text is lowered first: IGNORECASE makes sre ~3x slower.
    source = _WORD_START + "(?=(" + _trie_regex(trie, whole_words) + "))"
    return KeywordMatcher(re.compile(source), re.compile(source, re.IGNORECASE), table)


def _trie_regex(node: dict[str, Any], whole_words: frozenset[str]) -> str:
    branches = []
    end = None
    for char, child in sorted(node.items()):
        if char == "":
            end = _WORD_END if child in whole_words else ""
            continue
        piece = _SEP if char == " " else re.escape(char)
        branches.append(piece + _trie_regex(child, whole_words))
    if not branches:
        return end or ""
    alternation = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if end is None:
        return alternation
    # Greedy: prefer the longer keyword, fall back to the one that ends here.
    return "(?:" + alternation + "|" + end + ")" if end else "(?:" + alternation + ")?"
