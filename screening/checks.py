"""System check: the shipped rule catalogue must load and validate before Django serves."""

from __future__ import annotations

from typing import Any

from django.core import checks

from clinical import catalogue


@checks.register("screening")
def check_catalogue(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report each catalogue problem as an Error that names the rule it is about."""
    try:
        raw = catalogue.load_raw(catalogue.CATALOGUE_PATH)
    except catalogue.CatalogueError as exc:
        return [
            checks.Error(
                message, hint="Fix clinical/catalogue/catalogue.yaml.", id="screening.E001"
            )
            for message in exc.errors
        ]
    return [
        checks.Error(
            f"Screening catalogue: {message}",
            hint="Fix clinical/catalogue/catalogue.yaml; every rule needs a valid severity, "
            "known modalities/regions and sources with doc and quote.",
            id="screening.E002",
        )
        for message in catalogue.validate_catalogue(raw)
    ]
