"""`manage.py createstaff`: the first real staff users, each with a role."""

from __future__ import annotations

import io
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from staff.roles import GROUP_PERMISSIONS, is_front_desk, is_therapist
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "lavender-harbour-91"
EXIT = "\x00"  # never printed: read everything until the command exits


def _create(*args: str, stdin: str = "", monkeypatch) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("createstaff", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("role", "therapist", "front_desk"),
    [("therapist", True, False), ("front_desk", False, True), ("clinical_lead", True, False)],
)
def test_a_staff_user_is_created_with_staff_status_and_the_roles_group(
    db, monkeypatch, role, therapist, front_desk
):
    output = _create(
        "alex",
        "--role",
        role,
        "--email",
        "alex@clinic.example",
        "--password-from-stdin",
        stdin=PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )
    user = get_user_model().objects.get(username="alex")
    assert user.is_staff and user.is_active and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.check_password(PASSWORD)
    assert (is_therapist(user), is_front_desk(user)) == (therapist, front_desk)
    assert f"Created alex ({role.replace('_', ' ')})" in output
    assert PASSWORD not in output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "doctor"], PASSWORD, "unknown role 'doctor': use one of therapist, front_desk"),
        (["--role", "therapist"], "", "no password on standard input"),
        (["--role", "therapist"], "alex", "password refused"),
        (["--role", "therapist"], "12345678901", "password refused: .*entirely numeric"),
        (["--role", "therapist", "--email", "alex at clinic"], PASSWORD, "not an email address"),
    ],
)
def test_bad_input_is_refused_and_creates_nobody(db, monkeypatch, args, stdin, message):
    with pytest.raises(CommandError, match=message):
        _create("alex", *args, "--password-from-stdin", stdin=stdin + "\n", monkeypatch=monkeypatch)
    assert not get_user_model().objects.filter(username="alex").exists()


def test_an_existing_username_is_refused_and_left_as_it_was(db, monkeypatch):
    existing = UserFactory(username="alex", groups=["front_desk"])
    with pytest.raises(CommandError, match="already exists.*changepassword alex"):
        _create(
            "alex",
            "--role",
            "therapist",
            "--password-from-stdin",
            stdin=PASSWORD,
            monkeypatch=monkeypatch,
        )
    existing.refresh_from_db()
    assert list(existing.groups.values_list("name", flat=True)) == ["front_desk"]


def test_a_username_django_would_refuse_is_refused(db, monkeypatch):
    with pytest.raises(CommandError, match="username 'alex smith'"):
        _create(
            "alex smith",
            "--role",
            "therapist",
            "--password-from-stdin",
            stdin=PASSWORD,
            monkeypatch=monkeypatch,
        )


def test_without_a_terminal_it_asks_for_password_from_stdin(db, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="use --password-from-stdin"):
        call_command("createstaff", "alex", "--role", "therapist", stdout=io.StringIO())


def test_the_clinical_lead_group_exists_after_migrate_with_a_therapists_permissions(db):
    # Created by staff.roles.ensure_staff_groups on post_migrate (the test database was
    # built by `migrate`); no data migration is involved. A clinical lead is a therapist who
    # also maintains the clinic's vocabulary.
    assert set(GROUP_PERMISSIONS["therapist"]) < set(GROUP_PERMISSIONS["clinical_lead"])
    lead = set(Group.objects.get(name="clinical_lead").permissions.values_list("codename"))
    therapist = set(Group.objects.get(name="therapist").permissions.values_list("codename"))
    assert therapist < lead and ("view_health_history",) in lead
    assert ("change_vocabularyterm",) in lead - therapist


# ---- at a real terminal ------------------------------------------------------------------


def _read_until(fd: int, text: str, timeout: float = 60) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"waited for {text!r}; the terminal showed {seen.decode()!r}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    if text != EXIT and text.encode() not in seen:
        raise AssertionError(f"the command ended before showing {text!r}: {seen.decode()!r}")
    return seen.decode(errors="replace")


def _run_at_terminal(argv: list[str], env: dict[str, str], answers: list[str]) -> tuple[str, int]:
    """Run argv with a pseudo-terminal as its controlling terminal; type `answers` at it."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.chdir(ROOT)
        os.execve(argv[0], argv, env)  # noqa: S606 (argv is ours)
    shown = ""
    try:
        for prompt, answer in zip(["Password: ", "Password (again): "], answers, strict=False):
            shown += _read_until(fd, prompt)
            os.write(fd, answer.encode() + b"\n")
        shown += _read_until(fd, EXIT)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return shown, os.waitstatus_to_exitcode(status)


def test_at_a_terminal_the_password_is_asked_twice_without_echo(tmp_path):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'staff.sqlite3'}",
        SITE_URL="https://clinic.example",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    migrated, status = _run_at_terminal([*manage, "migrate", "--noinput"], env, [])
    assert status == 0, migrated

    shown, status = _run_at_terminal(
        [*manage, "createstaff", "robin", "--role", "clinical_lead"], env, [PASSWORD, PASSWORD]
    )
    assert status == 0, shown
    assert "Password: " in shown and "Password (again): " in shown
    assert PASSWORD not in shown  # not echoed
    assert "Created robin (clinical lead)." in shown
    assert "They log in at https://clinic.example/accounts/login/" in shown

    shown, status = _run_at_terminal(
        [*manage, "createstaff", "sam", "--role", "therapist"], env, [PASSWORD, PASSWORD + "x"]
    )
    assert status == 1
    assert "the two passwords differ; nothing was created" in shown
