"""intake/vocabulary_msgids.py lists every vocabulary and catalogue word the forms show, so
that makemessages finds them; `manage.py vocabulary_msgids` writes it from the YAML."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinical import vocabulary
from intake import i18n, vocabulary_msgids
from intake.client_form import ClientIntakeForm
from tests.factories import ClientFactory


def _run(*args) -> str:
    out = io.StringIO()
    call_command("vocabulary_msgids", *args, stdout=out)
    return out.getvalue()


def test_the_module_is_up_to_date_with_the_vocabulary_and_the_catalogue():
    assert "up to date" in _run("--check")


def test_a_word_added_to_the_vocabulary_makes_the_check_fail(monkeypatch):
    regions = (*vocabulary.REGIONS, vocabulary.Term("tail", "Tail"))
    monkeypatch.setattr(vocabulary, "REGIONS", regions)
    with pytest.raises(CommandError, match="out of date"):
        _run("--check")


def test_the_command_writes_the_module_the_check_then_accepts(monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "MSGIDS_PATH", tmp_path / "vocabulary_msgids.py")
    assert "Wrote" in _run()
    written = (tmp_path / "vocabulary_msgids.py").read_text(encoding="utf-8")
    assert 'gettext_noop("Lower back"),' in written
    assert "up to date" in _run("--check")


def test_each_word_is_listed_once():
    assert len(vocabulary_msgids.MSGIDS) == len(set(vocabulary_msgids.MSGIDS))


@pytest.mark.django_db
def test_every_vocabulary_word_on_the_client_form_is_listed():
    form = ClientIntakeForm(client=ClientFactory.build())
    shown = set()
    for name in ("pain_character", "pain_regions", "red_flags", "planned_modality"):
        shown |= {str(label) for code, label in form.fields[name].choices if code}
    for category, rows in form.condition_groups():
        shown |= {category, *(str(row["check"].label) for row in rows)}
    assert "Lower back" in shown and "Osteoporosis" in shown
    assert shown - set(vocabulary_msgids.MSGIDS) == set()
