"""The production shape outside Docker: commands read from docker-compose.yml, and Caddy.

docker-compose.yml is the one description of how each process is started; these helpers
read it so a test runs exactly those commands, with the image's /app mapped to this
checkout. Caddy runs the repository's Caddyfile unchanged: the test only sets the
environment placeholders that file reads (SITE_URL, CADDY_HTTP_PORT, CADDY_ADMIN, UPSTREAM).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import yaml

from tests.support import processes

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
IMAGE_ROOT = "/app"  # the Dockerfile's WORKDIR, where `COPY . .` puts this checkout


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_service(name: str) -> dict:
    return compose()["services"][name]


def _on_this_machine(word: str) -> str:
    if word == IMAGE_ROOT or word.startswith(IMAGE_ROOT + "/"):
        return str(ROOT) + word[len(IMAGE_ROOT) :]
    return word


def _interpolated(value: str) -> str:
    """Resolve compose's ${VAR:-default} with the default (the test sets no compose vars)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def service_argv(name: str) -> list[str]:
    """The service's compose `command`, with image paths mapped to this checkout."""
    command = compose_service(name)["command"]
    assert isinstance(command, list), f"{name}: write the command as a list"
    return [_on_this_machine(word) for word in command]


def healthcheck_argv(name: str) -> list[str]:
    """The service's compose health check (a CMD list), with image paths mapped."""
    test = compose_service(name)["healthcheck"]["test"]
    assert test[0] == "CMD", f"{name}: the health check must be a CMD list"
    return [_on_this_machine(word) for word in test[1:]]


def app_environment() -> dict[str, str]:
    """The environment compose gives the app's processes (x-app), interpolated."""
    return {k: _interpolated(v) for k, v in compose()["x-app"]["environment"].items()}


def caddy_argv() -> list[str]:
    """Compose's caddy command, with the mounted Caddyfile mapped to the repository's."""
    service = compose_service("caddy")
    mounts = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = str(ROOT / source[2:])
    caddy = shutil.which("caddy")
    assert caddy, "caddy is not installed (apt-get install caddy)"
    command = service["command"]
    assert command[0] == "caddy"
    return [caddy, *(mounts.get(word, word) for word in command[1:])]


def start_caddy(
    *,
    artifacts: Path,
    site_url: str,
    http_port: int,
    admin_port: int,
    upstream: str,
) -> processes.Service:
    """Run the repository's Caddyfile; certificates and its internal CA live under artifacts."""
    state = artifacts / "caddy"
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        SITE_URL=site_url,
        CADDY_HTTP_PORT=str(http_port),
        CADDY_ADMIN=f"127.0.0.1:{admin_port}",
        UPSTREAM=upstream,
        XDG_DATA_HOME=str(state / "data"),
        XDG_CONFIG_HOME=str(state / "config"),
    )
    return processes.Service(
        name="caddy",
        argv=caddy_argv(),
        env=env,
        log_path=artifacts / "caddy.log",
        stop_signal=signal.SIGTERM,
    ).start()


def caddy_root_certificate(artifacts: Path) -> Path:
    """The root certificate of the internal CA that signed the localhost certificate."""
    return artifacts / "caddy" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
