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

from clinical.catalogue.building import compile_catalogue
from clinical.catalogue.language import (
    LANGUAGE_PATH,
    Language,
    expand,
    validate_language,
)
from clinical.catalogue.matcher import (
    KeywordMatcher,
    Target,
    canonical_phrase,
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
from clinical.vocabulary import ALL_MODALITIES, normalise_code

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
SUPPLEMENTARY_PATH = Path(__file__).with_name("supplementary.yaml")

__all__ = [
    "ALL_MODALITIES",
    "CATALOGUE_PATH",
    "LANGUAGE_PATH",
    "SEED",
    "SUPPLEMENTARY",
    "SUPPLEMENTARY_PATH",
    "Catalogue",
    "CatalogueError",
    "ClinicTerm",
    "KeywordMatcher",
    "Language",
    "Precaution",
    "Rule",
    "Source",
    "Target",
    "canonical_phrase",
    "compile_catalogue",
    "expand",
    "get_catalogue",
    "load_raw",
    "normalise_code",
    "validate_all",
    "validate_catalogue",
]


def load_raw(path: Path | None = None) -> Any:
    """Read a catalogue YAML file; raise CatalogueError if it cannot be read or parsed."""
    path = path or CATALOGUE_PATH
    try:
        with open(path, encoding="utf-8") as f:
            # libyaml's loader when present: the catalogue is large and read at every start.
            return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError([f"cannot load {path.name}: {exc}"]) from exc


def validate_all(raw: Any, supplementary: Any, language: Any) -> list[str]:
    """Return every problem in the three catalogue files (seed, supplementary, language)."""
    errors = validate_catalogue(raw)
    seed_codes = [r.get("code") for r in raw.get("rules") or [] if isinstance(r, dict)]
    if isinstance(raw, dict):
        errors += validate_supplementary(supplementary, seed_codes)
    codes = list(seed_codes)
    if isinstance(supplementary, dict):
        codes += [r.get("code") for r in supplementary.get("rules") or [] if isinstance(r, dict)]
    errors += validate_language(language, [c for c in codes if isinstance(c, str)])
    return errors


def get_catalogue(
    *, supplementary: bool = True, clinic_terms: tuple[ClinicTerm, ...] = (), vocabulary_version=""
) -> Catalogue:
    """Return the app's catalogue, loaded, validated and compiled once per process.

    `supplementary` switches the supplementary tier (off: its conditions screen `review`);
    `clinic_terms` are the clinic's own vocabulary, recorded as `vocabulary_version`.
    """
    # One cache key however it is asked for: compiling takes about a second, and each
    # compiled catalogue keeps its own memo tables.
    return _compiled(bool(supplementary), tuple(clinic_terms), vocabulary_version)


@functools.lru_cache(maxsize=8)
def _compiled(
    supplementary: bool, clinic_terms: tuple[ClinicTerm, ...], vocabulary_version: str
) -> Catalogue:
    return compile_catalogue(
        load_raw(CATALOGUE_PATH),
        supplementary=load_raw(SUPPLEMENTARY_PATH),
        supplementary_on=supplementary,
        language=load_raw(LANGUAGE_PATH),
        clinic_terms=clinic_terms,
        vocabulary_version=vocabulary_version,
    )
