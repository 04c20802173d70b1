"""System check: the shipped rule catalogue must load and validate before Django serves.

Three files make the catalogue (clinical/catalogue/): catalogue.yaml (the seed tier),
supplementary.yaml (the supplementary tier) and language.yaml (how people write). Every
quote must be present, codes unique across both tiers, and every term must name a rule.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from clinical import catalogue

HINT = (
    "Fix the files in clinical/catalogue/; every rule needs a valid severity, known "
    "modalities/regions, sources with doc and quote, and a code unique across both tiers."
)


@checks.register("screening")
def check_catalogue(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report each catalogue problem as an Error that names the rule it is about."""
    loaded = []
    for path in (catalogue.CATALOGUE_PATH, catalogue.SUPPLEMENTARY_PATH, catalogue.LANGUAGE_PATH):
        try:
            loaded.append(catalogue.load_raw(path))
        except catalogue.CatalogueError as exc:
            return [
                checks.Error(
                    message, hint=f"Fix clinical/catalogue/{path.name}.", id="screening.E001"
                )
                for message in exc.errors
            ]
    return [
        checks.Error(f"Screening catalogue: {message}", hint=HINT, id="screening.E002")
        for message in catalogue.validate_all(*loaded)
    ]
