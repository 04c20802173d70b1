"""Screen again every scheduled visit whose screening is out of date.

Out of date: its intake, plan or visit date changed, or the catalogue, the supplementary
tier (SCREENING_SUPPLEMENTARY) or the clinic vocabulary has another version now. `migrate`
runs the same step; run this after changing SCREENING_SUPPLEMENTARY without a migrate.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from screening.services import rescreen_scheduled


class Command(BaseCommand):
    help = "Re-screen scheduled visits whose screening is out of date."

    def handle(self, *args: Any, **options: Any) -> None:
        count = rescreen_scheduled()
        self.stdout.write(f"Re-screened {count} scheduled visit(s).")
