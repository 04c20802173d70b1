"""Send due messages (check-ins and every other kind of link message, and the therapist
alerts' retries): one tick, or `--loop` forever (the embedded default).

Like healthchecks' `sendalerts`: a plain loop around the same `dispatch.tick()` that Celery
beat runs in production. With no broker (CELERY_TASK_ALWAYS_EAGER) the sends run in this
process; with one, they go to the workers.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from messaging import dispatch


class Command(BaseCommand):
    help = "Send due messages (once, or with --loop every --interval seconds)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running until stopped.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.FOLLOWUP_TICK_SECONDS,
            help="Seconds between ticks with --loop (default FOLLOWUP_TICK_SECONDS).",
        )

    def handle(self, *args: Any, loop: bool, interval: float, **options: Any) -> None:
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if not loop:
            self.stdout.write(str(dispatch.tick()))
            return
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.stdout.write(f"sendmessages is running (every {interval:g} s)")
        while not self.stopping:
            # A database restart must not end the loop: drop dead connections each round.
            close_old_connections()
            try:
                result = dispatch.tick()
                if result.busy():
                    self.stdout.write(str(result))
            except Exception as exc:
                self.stderr.write(f"tick failed ({type(exc).__name__}); trying again")
            self._sleep(interval)
        self.stdout.write("sendmessages stopped")

    def _stop(self, signum: int, frame: Any) -> None:
        self.stdout.write(f"{signal.strsignal(signum)}, finishing...")
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, deadline - time.monotonic()))
