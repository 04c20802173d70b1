"""gunicorn.conf.py: a worker that has loaded the app compiles what its first requests would
(the screening catalogues), then takes all of it out of the collector's way."""

from __future__ import annotations

import gc
import logging
import runpy
from pathlib import Path

import django
import pytest
from django.conf import settings as django_settings

from clinical.catalogue import _compiled, get_catalogue
from screening.models import VocabularyTerm
from screening.services import current_catalogue

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _walked() -> set[int]:
    return {id(o) for generation in range(3) for o in gc.get_objects(generation)}


@pytest.mark.django_db
def test_a_worker_compiles_the_catalogues_then_freezes_what_it_loaded():
    VocabularyTerm.objects.create(
        phrase="labyrinthectomy", rule_code="recent_surgery", status="active"
    )
    settings = runpy.run_path(str(CONF))
    assert settings["logger_class"] == "clinic.gunicorn_logging.ScrubbingLogger"
    _compiled.cache_clear()
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
        # The form's catalogue and the screening's (with the clinic's vocabulary) are ready:
        # asking again compiles nothing.
        compiled = _compiled.cache_info().currsize
        form = get_catalogue(supplementary=django_settings.SCREENING_SUPPLEMENTARY)
        screening = current_catalogue()
        assert _compiled.cache_info().currsize == compiled
        assert screening.vocabulary_version and screening is not form
        # Loaded modules and the catalogues are now permanent: no generation the collector
        # walks holds them.
        walked = _walked()
        assert id(django.__dict__) not in walked
        assert id(form) not in walked and id(screening) not in walked
        # What a request makes afterwards is collected as before (in whichever generation a
        # collection meanwhile moved it to).
        made = [[]]
        assert any(o is made for generation in range(3) for o in gc.get_objects(generation))
    finally:
        gc.unfreeze()


def test_a_worker_whose_warm_up_fails_still_starts(caplog):
    """Without the database (none here: no test database access), the warm-up says why it
    was skipped, and the worker starts; its first request compiles the catalogue."""
    settings = runpy.run_path(str(CONF))
    gc.unfreeze()
    try:
        with caplog.at_level(logging.WARNING, logger="clinic.warmup"):
            settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    [record] = [r for r in caplog.records if r.name == "clinic.warmup"]
    assert "warm-up skipped" in record.getMessage()
