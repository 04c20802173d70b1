"""Serve the app with the follow-up loop beside it: the embedded default behind `make run`."""

from __future__ import annotations

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the development web server and `sendfollowups --loop` together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--interval", type=float, default=10.0, help="tick every N seconds")

    def handle(self, *args, host: str, port: str, interval: float, **options):
        offsets = ", ".join(
            f"{s // 60} min" if s % 60 == 0 else f"{s} s" for s in settings.FOLLOWUP_OFFSETS
        )
        self.stdout.write(
            f"Follow-up loop: ticks every {interval:g} s; check-ins go out {offsets} after a "
            f"visit is completed and land in the outbox at http://{host}:{port}/followup/outbox/"
        )
        loop = subprocess.Popen(  # the tick runs in its own process, as in production
            [sys.executable, "manage.py", "sendfollowups", "--loop", "--interval", str(interval)],
            cwd=settings.BASE_DIR,
        )
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            loop.send_signal(signal.SIGTERM)
            try:
                loop.wait(timeout=10)
            except subprocess.TimeoutExpired:
                loop.kill()
