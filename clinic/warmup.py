"""What a web worker does once, before its first request: compile the screening catalogues
and read the medicine names.

Compiling the rule catalogue takes about a second in each process, and reading the medicine
names another 0.4 s; the first intake a worker recorded used to pay both (1.4 s for a first
intake POST). gunicorn.conf.py runs `warm()` once the worker has loaded the app, before it freezes
what it loaded, so the compiled catalogues are also left out of the collector's full passes.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def warm() -> None:
    """Compile the intake form's catalogue and the screening's, with the clinic's vocabulary,
    and read the medicine names that free text is screened for.

    The vocabulary is read from the database. A warm-up never stops a worker from starting:
    if anything here fails (the database not up yet, say), the first request that needs a
    catalogue compiles it, as it would without a warm-up.
    """
    from clinical.catalogue import get_catalogue
    from clinical.catalogue.language import medicines_in_text
    from screening.services import current_catalogue

    try:
        medicines_in_text("ibuprofen")
        get_catalogue(supplementary=settings.SCREENING_SUPPLEMENTARY)
        current_catalogue()
    except Exception as exc:  # best effort: the first request does the work instead
        logger.warning(
            "worker warm-up skipped (%s): the first request compiles", type(exc).__name__
        )
    finally:
        # The worker's requests open their own connections (CONN_MAX_AGE, health checks); a
        # connection inside a transaction (the caller's) is left to it.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()
