"""Import intakes (e.g. typed-up paper forms) for one client: all of them or none."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinical.intake import IntakeError, parse_intake
from clinical.jsoninput import JSONInputError, read_documents
from intake.models import Client
from intake.services import check_intake_for_record, intake_record, signature_matches

EXIT_INVALID = 2

HELP = """Import intakes for one client from FILE, all in one transaction or none at all.

FILE holds one intake object, a JSON array of them, or JSON Lines. Each object is the intake JSON
(SPEC section 4) plus the client's consent for that intake:
  "signature_name": the name the client signed with; it must be the client's full name
                    (case and spacing do not matter)
  "signed_at":      when they signed, ISO 8601 with a time zone, e.g. 2026-11-20T10:30:00+00:00
                    (optional; defaults to the moment of the import)
Items are stored in file order; the last one becomes the client's latest intake, and their
scheduled visits move to it and are screened again. Every item is checked first: each bad
one is reported as "item <index>: <path>: <reason>" (index from 0) on stderr, nothing is
stored and the command exits with status 2.
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file: an intake object or an array of them")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--client", type=int, help="the client's id")
        who.add_argument("--email", help="the client's email address")
        parser.add_argument("--by", help="username of the staff member importing (optional)")

    def handle(self, *args, **options):
        client = _find_client(options["client"], options["email"])
        by = _find_user(options["by"])
        items = _read_items(options["file"])
        parsed, problems = [], []
        for index, item in enumerate(items):
            try:
                parsed.append(_parse_item(item, client))
            except IntakeError as exc:
                problems.append(f"item {index}: {exc.path}: {exc.reason}")
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(
                f"nothing imported: {len(problems)} of {len(items)} item(s) invalid",
                returncode=EXIT_INVALID,
            )
        with transaction.atomic():
            for data, signature_name, signed_at in parsed:
                intake_record(
                    client=client,
                    data=data,
                    by=by,
                    ip=None,
                    signature_name=signature_name,
                    signed_at=signed_at,
                )
        self.stdout.write(f"Imported {len(parsed)} intake(s) for client #{client.pk}.")


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_INVALID)


def _find_client(client_id: int | None, email: str | None) -> Client:
    if client_id is not None:
        client = Client.objects.filter(pk=client_id).first()
        if client is None:
            raise _fail(f"no client with id {client_id}")
        return client
    matches = list(Client.objects.filter(email__iexact=email.strip())[:2])
    if not matches:
        raise _fail(f"no client with email {email!r}")
    if len(matches) > 1:
        raise _fail(f"more than one client has email {email!r}; use --client ID")
    return matches[0]


def _find_user(username: str | None):
    if not username:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise _fail(f"no active user {username!r}")
    return user


def _read_items(path: str) -> list:
    try:
        documents = read_documents(path)
    except JSONInputError as exc:
        raise _fail(f"{path}: {exc}") from None
    if not documents.items:
        raise _fail(f"{path}: no intakes in the file")
    return documents.items


def _parse_item(item, client: Client):
    if not isinstance(item, dict):
        raise IntakeError("intake", "must be a JSON object")
    signature_name = item.get("signature_name")
    if not isinstance(signature_name, str) or not signature_name.strip():
        raise IntakeError("signature_name", "is required (the name the client signed with)")
    if not signature_matches(signature_name, client):
        raise IntakeError("signature_name", f"must be the client's full name ({client})")
    signed_at = _signed_at(item.get("signed_at"))
    data = parse_intake(item, today=timezone.localdate())
    if data.date_of_birth != client.date_of_birth:
        raise IntakeError("date_of_birth", "does not match the client's date of birth")
    check_intake_for_record(data)
    return data, signature_name.strip(), signed_at


def _signed_at(value) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise IntakeError("signed_at", "must be an ISO 8601 date and time with a time zone")
    if parsed > timezone.now() + dt.timedelta(minutes=5):
        raise IntakeError("signed_at", "must not be in the future")
    return parsed
