"""gunicorn.conf.py: a worker that has loaded the app takes it out of the collector's way."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

import django

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_once_the_app_is_loaded():
    settings = runpy.run_path(str(CONF))
    assert settings["logger_class"] == "clinic.gunicorn_logging.ScrubbingLogger"
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
        # Loaded modules are now permanent: no generation the collector walks holds them.
        walked = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert id(django.__dict__) not in walked
        # What a request makes afterwards is collected as before (in whichever generation a
        # collection meanwhile moved it to).
        made = [[]]
        assert any(o is made for generation in range(3) for o in gc.get_objects(generation))
    finally:
        gc.unfreeze()
