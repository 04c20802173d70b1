"""Compile the catalogue's data (seed, supplementary tier, language, the clinic's own terms)
into frozen rules and precompiled matchers, once per process.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from clinical import vocabulary
from clinical.catalogue.context import ContextRules
from clinical.catalogue.language import (
    FUZZY_MIN_CHARS,
    Language,
    expand,
    split_stem,
    validate_language,
)
from clinical.catalogue.matcher import (
    Target,
    canonical_phrase,
    compile_alternation,
    keyword_matcher,
)
from clinical.catalogue.model import (
    SEED,
    SUPPLEMENTARY,
    Catalogue,
    CatalogueError,
    ClinicTerm,
    Precaution,
    Rule,
    Source,
)
from clinical.catalogue.validation import validate_catalogue, validate_supplementary
from clinical.vocabulary import normalise_code


def compile_catalogue(
    raw: Any,
    *,
    supplementary: Any = None,
    supplementary_on: bool = True,
    language: Any = None,
    clinic_terms: tuple[ClinicTerm, ...] = (),
    vocabulary_version: str = "",
) -> Catalogue:
    """Validate the catalogue files and build the dataclasses and matchers the engine uses.

    Without `supplementary` or `language` (tests of the seed file alone) those parts are
    left out.
    """
    errors = validate_catalogue(raw)
    seed_codes = [r.get("code") for r in raw.get("rules") or [] if isinstance(r, dict)]
    if supplementary is not None:
        errors += validate_supplementary(supplementary, seed_codes)
    if language is not None and not errors:
        codes = seed_codes + [r["code"] for r in (supplementary or {}).get("rules") or []]
        errors += validate_language(language, codes)
    if errors:
        raise CatalogueError(errors)
    builder = _Builder(raw)
    for index, item in enumerate(raw["rules"]):
        builder.add_rule(index, item, SEED)
    extensions, withheld = [], []
    if supplementary is not None:
        for item in supplementary["rules"]:
            if item.get("extends"):
                extensions.append(item)
            elif supplementary_on:
                builder.add_rule(len(builder.rules), item, SUPPLEMENTARY)
            else:
                withheld.append(_rule(-1, item, SUPPLEMENTARY))
    for item in extensions:
        builder.add_extension(item, on=supplementary_on)
    for rule in withheld:
        builder.add_withheld(rule)
    if language is not None:
        builder.add_language(language, withheld)
    for term in clinic_terms:
        builder.add_clinic_term(term, withheld)
    # The version a screening records covers the words it was read with as well: a change
    # to language.yaml makes earlier screenings out of date, like a change of rules.
    version = str(raw["version"])
    if language is not None:
        version = f"{version}.{language['version']}"
    return builder.build(
        version=version,
        supplementary_version=str(supplementary["version"])
        if supplementary is not None and supplementary_on
        else "",
        language_version=str(language["version"]) if language is not None else "",
        vocabulary_version=vocabulary_version,
        withheld=tuple(withheld),
        language=language,
    )


class _Builder:
    """Collect rules and every way words point at them, then compile the matchers."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        matching = raw.get("keyword_matching") or {}
        self.whole_words = {canonical_phrase(w) for w in matching.get("whole_words") or ()}
        # The catalogue's keywords are stems unless listed as whole words ('oil', 'in a cast').
        self.catalogue_whole = frozenset(self.whole_words)
        self.stems: set[str] = set()
        self.rules: list[Rule] = []
        self.items: list[dict[str, Any]] = []
        self.condition_targets: dict[str, list[Target]] = {}
        self.text_targets: dict[str, list[Target]] = {}
        self.medication_targets: dict[str, list[Target]] = {}
        self.allergy_targets: dict[str, list[Target]] = {}
        self.special_rules: dict[str, list[int]] = {}
        self.not_with: dict[int, frozenset[str]] = {}
        self.not_in: dict[int, re.Pattern[str]] = {}
        self.fuzzy_words: dict[str, dict[str, list[Target]]] = {}
        self.fuzzy_entries: dict[str, list[Target]] = {}
        self.language_rules: dict[str, dict[str, Any]] = {}

    def index_of(self, code: str) -> int | None:
        for rule in self.rules:
            if rule.code == code:
                return rule.order
        return None

    def _put(self, table: dict[str, list[Target]], phrase: str, target: Target) -> None:
        phrase, whole = split_stem(phrase)
        key = canonical_phrase(phrase)
        if not key:
            return
        if whole:
            if key not in self.stems:
                self.whole_words.add(key)
        else:
            self.stems.add(key)
            self.whole_words.discard(key)
        bucket = table.setdefault(key, [])
        if target not in bucket:
            bucket.append(target)

    def _keyword(self, keyword: str) -> str:
        return keyword if canonical_phrase(keyword) in self.catalogue_whole else keyword + "*"

    def _fuzzy(self, phrase: str, target: Target) -> None:
        phrase = canonical_phrase(split_stem(phrase)[0])
        entries = self.fuzzy_entries.setdefault(phrase, [])
        if target not in entries:
            entries.append(target)
        if " " not in phrase and len(phrase) >= FUZZY_MIN_CHARS:
            words = self.fuzzy_words.setdefault(phrase[:2], {}).setdefault(phrase, [])
            if target not in words:
                words.append(target)

    def add_rule(self, index: int, item: dict[str, Any], tier: str) -> None:
        rule = _rule(index, item, tier)
        self.rules.append(rule)
        self.items.append(item)
        match = item["match"]
        if rule.special:
            self.special_rules.setdefault(rule.special, []).append(index)
        target = Target(index, rule.requires_acute)
        for code in rule.condition_codes:
            self.condition_targets.setdefault(code, []).append(target)
            self._fuzzy(code.replace("_", " "), target)
        for keyword in rule.keywords:
            self._put(self.text_targets, self._keyword(keyword), target)
            self._fuzzy(keyword, target)
        for keyword in rule.medication_keywords:
            self._put(self.medication_targets, self._keyword(keyword), target)
            self._fuzzy(keyword, target)
        for keyword in rule.allergy_keywords:
            self._put(self.allergy_targets, self._keyword(keyword), target)
        for context in match.get("context_keywords") or ():
            required = compile_alternation(context["requires_any"], frozenset(self.whole_words))
            context_target = Target(index, rule.requires_acute, required)
            for keyword in context["keywords"]:
                self._put(self.text_targets, self._keyword(keyword), context_target)
        also_when = match.get("also_when")
        if also_when:
            also_target = Target(index, also_when.get("requires_acute"))
            for code in also_when.get("condition_codes") or ():
                self.condition_targets.setdefault(normalise_code(code), []).append(also_target)
            for keyword in also_when.get("keywords") or ():
                self._put(self.text_targets, self._keyword(keyword), also_target)

    def add_extension(self, item: dict[str, Any], *, on: bool) -> None:
        base = self.index_of(item["extends"])
        if base is None:
            return
        if on:
            target = Target(base, None, kind="extension")
        else:
            target = Target(-1, None, kind="withheld", suggest=(item["extends"],))
        match = item.get("match") or {}
        for code in match.get("condition_codes") or ():
            self.condition_targets.setdefault(normalise_code(code), []).append(target)
        for keyword in match.get("keywords") or ():
            self._put(self.text_targets, self._keyword(keyword), target)
        self.language_rules.setdefault(item["code"], {})["_target"] = target

    def add_withheld(self, rule: Rule) -> None:
        target = Target(-1, None, kind="withheld", suggest=(rule.code,))
        for code in rule.condition_codes:
            self.condition_targets.setdefault(code, []).append(target)
        for keyword in rule.keywords:
            self._put(self.text_targets, self._keyword(keyword), target)

    def add_language(self, language: dict[str, Any], withheld: list[Rule]) -> None:
        withheld_codes = {rule.code for rule in withheld}
        for code, entry in language["rules"].items():
            index = self.index_of(code)
            extension = self.language_rules.get(code, {}).get("_target")
            if extension is not None:
                target = extension
            elif index is not None:
                target = Target(index, self.rules[index].requires_acute, kind="lay")
            elif code in withheld_codes:
                target = Target(-1, None, kind="withheld", suggest=(code,))
            else:
                continue
            for term in entry.get("terms") or ():
                for phrase in expand(term):
                    self._put(self.text_targets, phrase, target)
                    self._fuzzy(phrase, target)
            for term in entry.get("medication") or ():
                for phrase in expand(term):
                    self._put(self.medication_targets, phrase, target)
                    self._fuzzy(phrase, target)
            for term in entry.get("allergy") or ():
                for phrase in expand(term):
                    self._put(self.allergy_targets, phrase, target)
            for flag, terms in (entry.get("red_flags") or {}).items():
                flag_target = Target(
                    index if index is not None else -1, None, kind="red_flag", red_flag=flag
                )
                for term in terms:
                    for phrase in expand(term):
                        self._put(self.text_targets, phrase, flag_target)
            if entry.get("red_flag") and index is not None:
                flag_target = Target(index, None, kind="red_flag", red_flag=entry["red_flag"])
                for term in entry.get("terms") or ():
                    for phrase in expand(term):
                        bucket = self.text_targets[canonical_phrase(split_stem(phrase)[0])]
                        bucket[:] = [t for t in bucket if t != target] + [flag_target]
            if index is not None:
                if entry.get("not_with"):
                    self.not_with[index] = frozenset(w.lower() for w in entry["not_with"])
                if entry.get("not_in"):
                    self.not_in[index] = compile_alternation(entry["not_in"], frozenset())
                self.rules[index] = dataclasses.replace(
                    self.rules[index],
                    lay_terms=tuple(p for t in entry.get("terms") or () for p in expand(t)),
                    current_only=bool(entry.get("current_only")),
                    when_past=entry.get("when_past"),
                    red_flag=entry.get("red_flag"),
                )
        lexicon = language["lexicon"]
        for item in lexicon["conditions"]:
            target = Target(-1, None, kind="lexicon", suggest=tuple(item.get("suggest") or ()))
            for term in item["terms"]:
                for phrase in expand(term):
                    self._put(self.text_targets, phrase, target)
                    self._fuzzy(phrase, target)
        understood = Target(-1, None, kind="understood")
        for term in lexicon["known_not_relevant"]:
            for phrase in expand(term):
                self._put(self.text_targets, phrase, understood)
        for term in lexicon["allergens"]:
            for phrase in expand(term):
                self._put(self.allergy_targets, phrase, understood)
        for term in lexicon["medication_words"]:
            for phrase in expand(term):
                self._put(self.medication_targets, phrase, understood)

    def add_clinic_term(self, term: ClinicTerm, withheld: list[Rule]) -> None:
        index = self.index_of(term.rule_code)
        if index is not None:
            target = Target(index, self.rules[index].requires_acute, kind="clinic")
        elif any(rule.code == term.rule_code for rule in withheld):
            target = Target(-1, None, kind="withheld", suggest=(term.rule_code,))
        else:
            return  # a rule the catalogue no longer has
        self._put(self.text_targets, term.phrase, target)
        self._put(self.medication_targets, term.phrase, target)
        self._put(self.allergy_targets, term.phrase, target)
        self.condition_targets.setdefault(normalise_code(term.phrase), []).append(target)
        self._fuzzy(term.phrase, target)

    def build(self, *, withheld, language, **versions) -> Catalogue:
        whole = frozenset(self.whole_words)
        context = None
        compiled_language = None
        if language is not None:
            lexicon = language["lexicon"]
            context = ContextRules(language["context"])
            known_words = {
                w
                for table in (self.text_targets, self.medication_targets, self.allergy_targets)
                for phrase in table
                for w in phrase.split()
            } | {c for code in self.condition_targets for c in code.split("_")}
            compiled_language = Language(
                version=str(language["version"]),
                context=context,
                not_with=self.not_with,
                not_in=self.not_in,
                suffix=re.compile(
                    r"\b[a-z]{3,}(?:" + "|".join(lexicon["suffixes"]) + r")\b", re.IGNORECASE
                ),
                not_medical=frozenset(lexicon["not_medical"]),
                health_cues=re.compile(
                    r"\b(?:"
                    + "|".join(
                        r"\s+".join(re.escape(w) for w in p.split())
                        for cue in lexicon["health_cues"]
                        for p in expand(cue)
                    )
                    + r")\s+([^.,;:!?\n]{3,60})",
                    re.IGNORECASE,
                ),
                suffix_endings=tuple(lexicon["suffixes"]),
                health_cue_words=frozenset(
                    phrase.split()[0].lower()
                    for cue in lexicon["health_cues"]
                    for phrase in expand(cue)
                ),
                fuzzy_words={
                    prefix: tuple((w, tuple(t)) for w, t in words.items())
                    for prefix, words in self.fuzzy_words.items()
                },
                fuzzy_entries={k: tuple(v) for k, v in self.fuzzy_entries.items()},
                known_words=frozenset(known_words),
                fuzzy_stopwords=frozenset(lexicon.get("fuzzy_stopwords") or ()),
            )
        return Catalogue(
            rules=tuple(self.rules),
            universal_precautions=tuple(_precaution(p) for p in self.raw["universal_precautions"]),
            condition_targets={k: tuple(v) for k, v in self.condition_targets.items()},
            condition_keywords=keyword_matcher(self.text_targets, whole),
            medication_keywords=keyword_matcher(self.medication_targets, whole),
            allergy_keywords=keyword_matcher(self.allergy_targets, whole),
            special_rules={k: tuple(v) for k, v in self.special_rules.items()},
            withheld_rules=withheld,
            language=compiled_language,
            **versions,
        )


def _rule(index: int, item: dict[str, Any], tier: str) -> Rule:
    match = item.get("match") or {}
    return Rule(
        code=item["code"],
        title=item["title"],
        category=item.get("category") or "other",
        severity=item["severity"],
        avoid_modalities=tuple(item.get("avoid_modalities") or ()),
        avoid_regions=tuple(item.get("avoid_regions") or ()),
        actions=tuple(item.get("actions") or ()),
        sources=tuple(
            Source(s["doc"], s["quote"], s.get("counted", True) is not False)
            for s in item["sources"]
        ),
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
        tier=tier,
    )


def _precaution(item: dict[str, Any]) -> Precaution:
    return Precaution(
        code=item["code"],
        title=item["title"],
        avoid_regions=tuple(item.get("avoid_regions") or ()),
        actions=tuple(item.get("actions") or ()),
        sources=tuple(Source(s["doc"], s["quote"]) for s in item["sources"]),
    )
