"""Subprocesses of the stack (each in its own process group, its output in a log file) and
bounded waits."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.environment import ROOT

LOG_TAIL_CHARS = 6000


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.2,
    message: str | Callable[[], str] = "condition",
):
    """Poll `predicate` until it returns something truthy; raise AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {text}")
        time.sleep(interval)


_RUNNING: set[Service] = set()


@dataclass(eq=False)
class Service:
    """One subprocess in its own process group, with its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    # The signal that stops it: SIGTERM is celery's warm shutdown; gunicorn's quick one is
    # SIGINT (its SIGTERM waits for idle keep-alive connections).
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 (the child keeps writing to it)
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we stop it and all its children
        )
        log.close()
        _RUNNING.add(self)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match:
        """Wait until the log matches `pattern` (a regex); fail early if the process dies."""

        def seen():
            match = re.search(pattern, self.log())
            if match:
                return match
            if not self.alive:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode} before logging "
                    f"{pattern!r}:\n{self.tail()}"
                )
            return None

        return wait_until(
            seen,
            timeout=timeout,
            message=lambda: f"{self.name} to log {pattern!r}:\n{self.tail()}",
        )

    def tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        text = self.log()
        return text if len(text) <= chars else "...\n" + text[-chars:]

    def stop(self, timeout: float = 10) -> None:
        """Terminate the process group, then kill it if it has not gone within `timeout`."""
        _RUNNING.discard(self)
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        # The leader is gone; make sure no child (a prefork pool process) outlives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def send_signal(self, sig: int) -> None:
        """Signal the whole process group (start_new_session: its id is the leader's pid)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)


def stop_all(services: Iterable[Service], timeout: float = 10) -> None:
    """Stop several services at once: SIGTERM to all, then each stops within `timeout`."""
    services = list(services)
    for service in services:
        service.send_signal(service.stop_signal)
    for service in services:
        service.stop(timeout=timeout)


@atexit.register
def _stop_leftovers() -> None:
    # A test run interrupted between start and teardown must not leave processes behind.
    stop_all(list(_RUNNING), timeout=3)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the project's manage.py with `args` in exactly `env`; return what it did."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def python_module(module: str, *args: str) -> list[str]:
    """Return argv running `python -m module args` with the interpreter running the tests."""
    return [sys.executable, "-m", module, *args]


def services_summary(services: Iterable[Service]) -> str:
    parts = []
    for service in services:
        state = "running" if service.alive else f"exited {service.proc and service.proc.returncode}"
        parts.append(f"===== {service.name} ({state}), log {service.log_path} =====\n")
        parts.append(service.tail() + "\n")
    return "".join(parts)
