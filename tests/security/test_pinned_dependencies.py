"""Every package is pinned with its hashes and installed with --require-hashes, so a
tampered or substituted download fails the install (README, "Security and reliability")."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"requirements.in": "requirements.lock", "requirements-dev.in": "requirements-dev.lock"}
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==\S+ \\$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: str) -> dict[str, list[str]]:
    """Return each pinned package of a lock file with its hashes."""
    packages: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / lock).read_text().splitlines():
        match = _REQUIREMENT.match(line)
        if match:
            current = _canonical(match.group(1))
            packages[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            packages[current].append(line.strip())
        elif line and not line.startswith(" "):
            current = None
    return packages


@pytest.mark.parametrize(("source", "lock"), sorted(LOCKS.items()))
def test_every_package_is_pinned_with_its_hashes(source, lock):
    packages = _locked(lock)
    assert packages
    assert all(hashes for hashes in packages.values()), [p for p, h in packages.items() if not h]
    wanted = [
        _canonical(re.split(r"[\[<>=;\s]", line.strip())[0])
        for line in (ROOT / source).read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    ]
    missing = [name for name in wanted if name not in packages]
    assert not missing, f"{source} names packages {lock} does not pin: {missing}"


def test_every_install_requires_the_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(
        r"pip install [^\n]*--require-hashes[^\n]*\\\n"
        r"\s*-r requirements\.lock -r requirements-dev\.lock",
        makefile,
    )
    assert (
        "pip install --no-cache-dir --require-hashes -r requirements.lock"
        in (ROOT / "Dockerfile").read_text()
    )


def _wheel(directory: Path, body: str) -> Path:
    """Build a minimal wheel of a package `clinic_probe` 1.0 whose module holds `body`."""
    path = directory / "clinic_probe-1.0-py3-none-any.whl"
    files = {
        "clinic_probe.py": body,
        "clinic_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: clinic-probe\n"
        "Version: 1.0\n",
        "clinic_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + "clinic_probe-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in {**files, "clinic_probe-1.0.dist-info/RECORD": record}.items():
            wheel.writestr(name, text)
    return path


def _install(tmp_path: Path, wheels: Path, digest: str) -> subprocess.CompletedProcess:
    requirements = tmp_path / "requirements.lock"
    requirements.write_text(f"clinic-probe==1.0 --hash=sha256:{digest}\n")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-deps",
            "--require-hashes",
            "--target",
            str(tmp_path / "site"),
            "-r",
            str(requirements),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_substituted_package_fails_the_install(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    genuine = _wheel(wheels, "GENUINE = True\n")
    digest = hashlib.sha256(genuine.read_bytes()).hexdigest()
    assert _install(tmp_path, wheels, digest).returncode == 0  # the pinned one installs

    _wheel(wheels, "import os  # something else under the same name and version\n")
    (tmp_path / "again").mkdir()
    refused = _install(tmp_path / "again", wheels, digest)
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr
