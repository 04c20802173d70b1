"""docker-compose.yml, the Dockerfile, .dockerignore and the Caddyfile say what the README says.

What they do when run is tests/integration/test_production_shape.py; this checks the parts
that only Docker would exercise: which ports are published, who waits for whom, what goes
into the image.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.services import missing
from tests.support import proxy

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict:
    return proxy.compose()["services"]


def test_only_caddy_is_published_and_gunicorn_is_not(services):
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"caddy"}
    assert {p.split(":")[0] for p in services["caddy"]["ports"]} == {"80", "443"}
    assert "expose" not in services["web"]


def test_every_long_running_service_has_a_health_check(services):
    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no"  # one-shot: it runs, then exits
            continue
        assert "healthcheck" in service, f"{name} has no health check"
    for name in APP_SERVICES:
        assert proxy.healthcheck_argv(name) == [f"{ROOT}/bin/clinic", "healthcheck", name]


def test_the_app_waits_for_migrations_and_runs_through_bin_clinic(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert proxy.service_argv(name) == [f"{ROOT}/bin/clinic", name]
    assert proxy.service_argv("migrate") == [f"{ROOT}/bin/clinic", "migrate"]
    assert services["caddy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_the_app_trusts_the_proxy_network_and_only_caddy_and_web_are_on_it(services):
    environment = proxy.app_environment()
    assert environment["DEBUG"] == "0"
    assert environment["BEHIND_PROXY"] == "1"
    subnet = proxy._interpolated(proxy.compose()["networks"]["edge"]["ipam"]["config"][0]["subnet"])
    assert environment["TRUSTED_PROXIES"] == subnet
    ipaddress.ip_network(subnet)
    on_edge = {name for name, s in services.items() if "edge" in s.get("networks", [])}
    assert on_edge == {"caddy", "web"}


def test_caddy_reads_the_repository_caddyfile_and_keeps_its_certificates(services):
    volumes = services["caddy"]["volumes"]
    assert any(v.startswith("./Caddyfile:/etc/caddy/Caddyfile") for v in volumes)
    assert any(v.startswith("caddy_data:/data") for v in volumes)
    assert services["caddy"]["environment"]["UPSTREAM"] == "web:8000"
    # The admin address its health check asks is the Caddyfile's default one.
    assert "localhost:2019" in " ".join(services["caddy"]["healthcheck"]["test"])
    assert "{$CADDY_ADMIN:localhost:2019}" in (ROOT / "Caddyfile").read_text()


def test_the_media_volume_is_mounted_where_the_image_makes_it_the_app_users(services):
    assert "media:/app/var/media" in " ".join(services["web"]["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "mkdir -p /app/var/media" in dockerfile
    assert "chown -R clinic:clinic /app/var" in dockerfile
    assert re.search(r"useradd .*--uid 10001", dockerfile)
    assert "\nUSER clinic\n" in dockerfile


def test_the_image_installs_the_runtime_lock_only_with_hashes():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == ["pip install --no-cache-dir --require-hashes -r requirements.lock"]
    assert "COPY requirements.lock ./" in dockerfile


@pytest.mark.parametrize(
    ("path", "kept_out"),
    [
        (".env", True),
        (".env.production", True),
        (".env.example", False),
        (".venv/bin/python", True),
        ("var/clinic.sqlite3", True),
        ("var/media/clearances/letter.pdf", True),
        ("test-artifacts/browser/shot.png", True),
        (".git/HEAD", True),
        ("clinic/__pycache__/settings.cpython-311.pyc", True),
        ("clinic/settings.py", False),
        ("bin/clinic", False),
        ("requirements.lock", False),
    ],
)
def test_dockerignore_keeps_secrets_and_local_data_out_of_the_image(path, kept_out):
    assert _ignored(path) == kept_out


def _ignored(path: str) -> bool:
    """Docker's .dockerignore matching: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").replace("**/", "*")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("site_url", ["https://clinic.example", "https://localhost"])
def test_the_caddyfile_adapts_with_composes_environment(site_url, tmp_path):
    caddy = shutil.which("caddy")
    if not caddy:
        missing("caddy is not installed (apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
        env={"SITE_URL": site_url, "UPSTREAM": "web:8000", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    config = result.stdout
    assert '"dial":"web:8000"' in config
    assert '"http_port":80' in config
    assert '"listen":"localhost:2019"' in config
    assert f'"host":["{site_url.split("://")[1]}"]' in config


def test_bin_clinic_refuses_an_unknown_command():
    result = subprocess.run(
        [str(ROOT / "bin" / "clinic"), "serve"], capture_output=True, text=True, timeout=10
    )
    assert result.returncode == 2
    assert "usage: bin/clinic migrate|web|worker|beat|healthcheck" in result.stderr
