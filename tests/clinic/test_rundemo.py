"""`manage.py rundemo`, behind `make run`: the server and the follow-up loop stop together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.environment import free_port
from tests.support.processes import wait_until

ROOT = Path(__file__).resolve().parents[2]

# The processes the command started are found through /proc (their environment).
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finding the child processes needs /proc"
)


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory) -> dict[str, str]:
    """An embedded-mode environment on a migrated SQLite file of its own."""
    database = tmp_path_factory.mktemp("rundemo") / "demo.sqlite3"
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{database}",
        PYTHONUNBUFFERED="1",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    return env


def _processes_with(env_entry: str) -> dict[int, str]:
    """Return {pid: command line} of live processes whose environment holds `env_entry`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
        if env_entry.encode() in environ and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def _rundemo(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--port", str(port), "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_a_busy_port_is_named_and_nothing_is_left_running(demo_env):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        demo = _rundemo(demo_env, port)
        out, err = demo.communicate(timeout=120)
    assert demo.returncode == 1
    assert f"port {port} on 127.0.0.1 is busy" in err
    assert f"make run PORT={port + 1}" in err
    assert "Follow-up loop" not in out  # refused before anything was started
    assert not _processes_with(f"DATABASE_URL={demo_env['DATABASE_URL']}")


def test_when_the_server_dies_the_follow_up_loop_is_stopped(demo_env):
    port = free_port()
    demo = _rundemo(demo_env, port)
    marker = f"DATABASE_URL={demo_env['DATABASE_URL']}"
    try:
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/health/"),
            timeout=90,
            message="the demo server to answer",
        )
        children = _processes_with(marker)
        server = [pid for pid, cmd in children.items() if "runserver" in cmd]
        loop = [pid for pid, cmd in children.items() if "sendmessages" in cmd]
        assert len(server) == 1 and len(loop) == 1, children

        os.kill(server[0], signal.SIGKILL)

        out, err = demo.communicate(timeout=60)
        assert demo.returncode == 1
        assert "the web server exited with status -9; the follow-up loop was stopped too" in err
        assert not _processes_with(marker)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def test_ctrl_c_stops_both_and_exits_cleanly(demo_env):
    port = free_port()
    demo = _rundemo(demo_env, port)
    marker = f"DATABASE_URL={demo_env['DATABASE_URL']}"
    try:
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/health/"),
            timeout=90,
            message="the demo server to answer",
        )
        os.killpg(demo.pid, signal.SIGINT)  # what the terminal sends the foreground group
        demo.communicate(timeout=60)
        assert demo.returncode == 0
        deadline = time.monotonic() + 10
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processes_with(marker)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
