"""The Makefile's newcomer edges: help, the Python version check, rebuilding a stale .venv."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

# A stand-in for an old interpreter: it answers the Makefile's version question with 3.10.12
# and fails its "3.11 or newer?" check, as a real Python 3.10 does.
OLD_PYTHON = """#!/bin/sh
case "$*" in
  *"version_info[:3]"*) echo 3.10.12 ;;
  *) exit 1 ;;
esac
"""


def make(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _targets() -> set[str]:
    return set(re.findall(r"^([a-z]+):", MAKEFILE.read_text(), re.M))


def test_make_help_lists_every_target_with_what_it_does():
    result = make("help")
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^  ([a-z]+) +(\S.*)$", result.stdout, re.M))
    assert set(listed) == _targets()
    assert {"run", "test", "lint", "lock", "clean"} <= set(listed)
    assert "help" in make().stdout  # plain `make` shows the help


def test_every_phony_target_exists():
    phony = re.search(r"^\.PHONY: (.*)$", MAKEFILE.read_text(), re.M).group(1).split()
    assert set(phony) == _targets()


def test_an_old_python_is_refused_with_a_clear_message(tmp_path):
    old = tmp_path / "python3.10"
    old.write_text(OLD_PYTHON)
    old.chmod(0o755)
    venv = tmp_path / "venv"
    result = make("venv", f"PYTHON={old}", f"VENV={venv}")
    assert result.returncode != 0
    assert f"needs Python 3.11 or newer; {old} is 3.10.12" in result.stderr
    assert "make PYTHON=python3.11" in result.stderr
    assert not venv.exists()


def test_a_missing_python_is_named(tmp_path):
    result = make("venv", "PYTHON=no-such-python3", f"VENV={tmp_path / 'venv'}")
    assert result.returncode != 0
    assert "No Python found as 'no-such-python3'" in result.stderr


def test_a_venv_made_by_another_python_is_rebuilt(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".made-by-python-3.10.12").touch()
    (venv / ".installed").touch()
    (venv / "bin" / "python").write_text(OLD_PYTHON)
    version = ".".join(str(part) for part in sys.version_info[:3])
    # The step that makes the venv (the next one installs the lock files into it).
    made_by = venv / f".made-by-python-{version}"
    result = make(f"PYTHON={sys.executable}", f"VENV={venv}", str(made_by))
    assert result.returncode == 0, result.stderr
    assert f"Rebuilding {venv} with {sys.executable} {version}: another Python made it" in (
        result.stdout
    )
    assert made_by.exists()
    assert not (venv / ".made-by-python-3.10.12").exists()
    assert not (venv / ".installed").exists()  # so the lock files are installed again
    rebuilt = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert rebuilt.stdout.strip() == version
