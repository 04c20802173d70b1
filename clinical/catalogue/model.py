"""The catalogue as frozen dataclasses: rules, universal precautions and compiled lookups."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from clinical import vocabulary
from clinical.catalogue.matcher import KeywordMatcher, Target


class CatalogueError(Exception):
    """Raise when the catalogue file cannot be loaded or is invalid."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


SEED, SUPPLEMENTARY = "seed", "supplementary"


@dataclass(frozen=True)
class Source:
    doc: str
    quote: str
    # False for a page that only corroborates (supplementary tier).
    counted: bool = True


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
    # "seed" (the clinic's source articles) or "supplementary" (public guidance outside them).
    tier: str = SEED
    # Reading what people write (language.yaml, editorial): see clinical.catalogue.language.
    lay_terms: tuple[str, ...] = ()
    current_only: bool = False
    when_past: str | None = None
    red_flag: str | None = None


@dataclass(frozen=True)
class Precaution:
    code: str
    title: str
    avoid_regions: tuple[str, ...]
    actions: tuple[str, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The rules and what screening needs to match them, compiled once per process."""

    version: str
    rules: tuple[Rule, ...]
    universal_precautions: tuple[Precaution, ...]
    # The supplementary tier's version, or "" when the tier is switched off; the language
    # file's and the clinic vocabulary's versions ("" when the clinic has none).
    supplementary_version: str = ""
    language_version: str = ""
    vocabulary_version: str = ""
    # Supplementary rules while the tier is off: their words still mean "review this".
    withheld_rules: tuple[Rule, ...] = ()
    # The language compiled for reading text (clinical.catalogue.language.Language).
    language: Any = field(repr=False, default=None)
    # Compiled lookups (not part of the reviewed data).
    condition_targets: Mapping[str, tuple[Target, ...]] = field(repr=False, default_factory=dict)
    condition_keywords: KeywordMatcher | None = field(repr=False, default=None)
    medication_keywords: KeywordMatcher | None = field(repr=False, default=None)
    allergy_keywords: KeywordMatcher | None = field(repr=False, default=None)
    special_rules: Mapping[str, tuple[int, ...]] = field(repr=False, default_factory=dict)

    # The vocabularies the rules are written in (clinical.vocabulary is their one home).
    modalities = vocabulary.MODALITIES
    modality_codes = vocabulary.MODALITY_CODES
    regions = vocabulary.AVOIDANCE_REGIONS
    intake_regions = vocabulary.REGIONS
    intake_red_flags = vocabulary.INTAKE_RED_FLAGS
    condition_categories = vocabulary.CONDITION_CATEGORIES

    def rule(self, code: str) -> Rule:
        """Return the rule with this code (KeyError if unknown)."""
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)

    def find_rule(self, code: str) -> Rule | None:
        """Return the rule with this code, including a withheld supplementary one, or None."""
        for rule in (*self.rules, *self.withheld_rules):
            if rule.code == code:
                return rule
        return None

    @property
    def versions(self) -> dict[str, str]:
        """Return the versions a screening records: catalogue, supplementary tier, vocabulary."""
        return {
            "catalogue_version": self.version,
            "supplementary_version": self.supplementary_version,
            "vocabulary_version": self.vocabulary_version,
        }

    @staticmethod
    def normalise_modality(name: str) -> str | None:
        """Return the modality code for a code or also_called name, or None."""
        return vocabulary.normalise_modality(name)

    @staticmethod
    def normalise_region(name: str) -> str | None:
        """Return the region code for a code or also_called name, or None."""
        return vocabulary.normalise_region(name)

    @staticmethod
    def normalise_red_flag(name: str) -> str | None:
        """Return the intake red-flag code for a code or also_called name, or None."""
        return vocabulary.normalise_intake_red_flag(name)

    def condition_choices(self) -> tuple[tuple[vocabulary.Term, tuple[Rule, ...]], ...]:
        """Return rules a client can tick on the intake form, grouped by category.

        Only rules matched by condition codes are offered; rules that need acute=true are
        left out because the form's "acute now" toggle covers them (scoliosis appears once).
        Worked out once per catalogue: the intake form asks for it on every request.
        """
        return self._condition_choices

    @functools.cached_property
    def _condition_choices(self) -> tuple[tuple[vocabulary.Term, tuple[Rule, ...]], ...]:
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
        return tuple(groups)


class ClinicTerm(NamedTuple):
    """A term of the clinic's own vocabulary: words that mean a catalogue rule."""

    phrase: str
    rule_code: str
