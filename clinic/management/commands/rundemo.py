"""Serve the app with the follow-up loop beside it: the embedded default behind `make run`.

The web server and the loop run as two child processes; when either ends, for any reason,
the other is stopped too, so a failed server never leaves the loop running on its own.
"""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT = 10  # seconds a child gets to stop before it is killed
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Run the development web server and `sendmessages --loop` together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--interval", type=float, default=10.0, help="tick every N seconds")

    def handle(self, *args, host: str, port: int, interval: float, **options):
        _refuse_busy_port(host, port)
        offsets = ", ".join(
            f"{s // 60} min" if s % 60 == 0 else f"{s} s" for s in settings.FOLLOWUP_OFFSETS
        )
        self.stdout.write(
            f"Follow-up loop: ticks every {interval:g} s; check-ins go out {offsets} after a "
            f"visit is completed and land in the outbox at http://{host}:{port}/followup/outbox/"
        )
        manage = [sys.executable, "manage.py"]
        children = {
            # The tick runs in its own process, as in production.
            "follow-up loop": [*manage, "sendmessages", "--loop", "--interval", str(interval)],
            "web server": [*manage, "runserver", f"{host}:{port}", "--noreload"],
        }
        running = {}
        # A plain `kill` must stop the children too, as Ctrl-C does.
        previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            for name, argv in children.items():
                running[name] = subprocess.Popen(argv, cwd=settings.BASE_DIR)
            ended, code = _wait_for_first_exit(running)
        except KeyboardInterrupt:
            return
        finally:
            for process in running.values():
                _stop(process)
            signal.signal(signal.SIGTERM, previous)
        other = "web server" if ended == "follow-up loop" else "follow-up loop"
        raise CommandError(f"the {ended} exited with status {code}; the {other} was stopped too")


def _refuse_busy_port(host: str, port: int) -> None:
    """Fail with the port's number when something already listens there."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server does: a port left in TIME_WAIT by an earlier run is free to take.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise CommandError(f"cannot serve on {host}:{port} ({exc.strerror})") from exc
            raise CommandError(
                f"port {port} on {host} is busy: another server (an earlier `make run`?) is "
                f"listening there. Stop it, or use another port: make run PORT={port + 1}"
            ) from exc


def _wait_for_first_exit(running: dict[str, subprocess.Popen]) -> tuple[str, int]:
    while True:
        for name, process in running.items():
            code = process.poll()
            if code is not None:
                return name, code
        time.sleep(POLL_SECONDS)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt
