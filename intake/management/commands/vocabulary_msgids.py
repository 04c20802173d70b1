"""Write intake/vocabulary_msgids.py, the vocabulary's and catalogue's words for makemessages."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from intake import i18n


class Command(BaseCommand):
    help = (
        "Write intake/vocabulary_msgids.py from clinical/vocabulary.yaml and the rule catalogue,"
        " so that makemessages finds their words. --check only says whether it is up to date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="exit with an error if the file is out of date"
        )

    def handle(self, *args, check: bool = False, **options):
        source = i18n.msgids_module()
        path = i18n.MSGIDS_PATH
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current != source:
                raise CommandError(
                    f"{path.name} is out of date: run `manage.py vocabulary_msgids`."
                )
            self.stdout.write(f"{path.name} is up to date.")
        elif current == source:
            self.stdout.write(f"{path.name} is up to date.")
        else:
            path.write_text(source, encoding="utf-8")
            self.stdout.write(f"Wrote {path.name}.")
