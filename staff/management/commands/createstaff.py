"""Create a staff user with a role: `manage.py createstaff alex --role therapist`."""

from __future__ import annotations

import getpass
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from staff.roles import ROLES

HELP = """Create a staff user with one role: therapist, front_desk or clinical_lead.

The user gets staff status (they can log in) and the role's group. The password is asked
for twice without echo; scripts pipe it in with --password-from-stdin instead (one line).
The password must pass the site's password rules. An existing username is refused: change
an existing user's role in the admin (Users), their password with `manage.py changepassword`.
Owners who manage users and settings are created with `manage.py createsuperuser`.
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=" | ".join(ROLES))
        parser.add_argument("--email", default="", help="their email (escalation alerts)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-from-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )

    def handle(self, *args, username: str, role: str, email: str, **options):
        if role not in ROLES:
            raise CommandError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        User = get_user_model()
        user = User(
            username=username,
            email=email.strip(),
            first_name=options["first_name"].strip(),
            last_name=options["last_name"].strip(),
            is_staff=True,
        )
        self._check_user(User, user)
        group = Group.objects.filter(name=role).first()
        if group is None:
            raise CommandError(f"the {role} group does not exist yet: run `manage.py migrate`")
        password = self._password(from_stdin=options["password_from_stdin"])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("password refused: " + " ".join(exc.messages)) from exc
        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(group)
        self.stdout.write(
            self.style.SUCCESS(f"Created {username} ({role.replace('_', ' ')}).")
            + f" They log in at {settings.SITE_URL}/accounts/login/"
        )

    def _check_user(self, User, user) -> None:
        try:
            User.username_validator(user.username)
        except ValidationError as exc:
            raise CommandError(f"username {user.username!r}: {' '.join(exc.messages)}") from exc
        if User.objects.filter(username=user.username).exists():
            raise CommandError(
                f"a user named {user.username!r} already exists: change their role in the "
                f"admin (Users), their password with `manage.py changepassword {user.username}`"
            )
        if user.email:
            try:
                validate_email(user.email)
            except ValidationError as exc:
                raise CommandError(f"--email {user.email!r} is not an email address") from exc

    def _password(self, *, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("no password on standard input")
            return password
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: use --password-from-stdin")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ; nothing was created")
        if not password:
            raise CommandError("the password is empty; nothing was created")
        return password
