"""The README's configuration table lists every variable the code reads, and nothing else.

"The code" is every place a deployment is configured from: clinic/settings.py (each call
whose first argument is a variable's name), bin/clinic, the Caddyfile, docker-compose.yml's
`${...}` and .env.example. A variable added without its README row fails here by name.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = r"[A-Z][A-Z0-9_]*"
# Calls that read the environment: any plain function (env_int, _env_value, fail...) or a
# method of `env` / `os.environ` / `os` (env.str, os.environ.get, os.getenv).
ENVIRONMENT_OBJECTS = {"env", "os.environ", "os"}


def _settings_variables() -> set[str]:
    tree = ast.parse((ROOT / "clinic" / "settings.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        reads = isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and ast.unparse(func.value) in ENVIRONMENT_OBJECTS
        )
        if reads and re.fullmatch(NAME, first.value):
            found.add(first.value)
    return found


def _variables_in(path: str, *patterns: str) -> set[str]:
    text = (ROOT / path).read_text()
    return {name for pattern in patterns for name in re.findall(pattern, text)}


def variables_read() -> dict[str, set[str]]:
    return {
        "clinic/settings.py": _settings_variables(),
        "bin/clinic": _variables_in(
            "bin/clinic", rf"\$\{{({NAME})", rf"\$({NAME})\b", rf"environ\.get\(\"({NAME})\""
        ),
        "Caddyfile": _variables_in("Caddyfile", rf"\{{\$({NAME})"),
        "docker-compose.yml": _variables_in("docker-compose.yml", rf"\$\{{({NAME})"),
        ".env.example": _variables_in(".env.example", rf"(?m)^({NAME})="),
    }


def documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = set()
    for row in rows:
        names |= set(re.findall(rf"`({NAME})`", row.split("|")[1]))
    return names


def test_the_scan_finds_variables_in_every_place():
    read = variables_read()
    assert {"SECRET_KEY", "SESSION_IDLE_MINUTES", "TRUSTED_PROXIES"} <= read["clinic/settings.py"]
    assert {"CONN_MAX_AGE", "ENGINE"}.isdisjoint(read["clinic/settings.py"])  # dict keys
    assert "WEB_BIND" in read["bin/clinic"]
    assert "UPSTREAM" in read["Caddyfile"]
    assert "POSTGRES_PASSWORD" in read["docker-compose.yml"]


def test_every_variable_the_code_reads_has_a_row_in_the_readme():
    table = documented()
    missing = {
        f"{name} (read in {where})"
        for where, names in variables_read().items()
        for name in names - table
    }
    assert not missing, "not in the README's configuration table: " + ", ".join(sorted(missing))


def test_every_row_of_the_readme_names_a_variable_the_code_reads():
    read = set().union(*variables_read().values())
    stale = documented() - read
    assert not stale, "the README's configuration table lists unread: " + ", ".join(sorted(stale))
