from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from intake.models import Intake
from tests.factories import ClientFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoe(db):
    return ClientFactory(first_name="Zoë", last_name="Brontë", email="zoe@example.com")


def _item(client, **fields) -> dict:
    item = {
        "date_of_birth": client.date_of_birth.isoformat(),
        "visit_date": timezone.localdate().isoformat(),
        "planned_modality": "deep tissue",
        "focus_regions": ["lower back"],
        "conditions": [{"code": "herniated_disc", "acute": False, "notes": "<script>x</script>"}],
        "medications": ["warfarin 5 mg"],
        "current_pain": {"score": 3, "regions": ["lumbar"], "character": "dull"},
        "signature_name": "zoë  brontë",
        "signed_at": "2026-01-15T10:30:00+00:00",
    }
    item.update(fields)
    return {k: v for k, v in item.items() if v is not ...}


def _run(tmp_path, document, *args):
    path = tmp_path / "intakes.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    out, err = StringIO(), StringIO()
    try:
        call_command("import_intakes", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_a_file_of_intakes_is_stored_in_order(tmp_path, zoe, therapist):
    visit = VisitFactory(client=zoe, intake=None, therapist=therapist)
    items = [_item(zoe), _item(zoe, medications=[])]
    code, out, err = _run(tmp_path, items, "--client", str(zoe.pk), "--by", therapist.username)
    assert (code, err) == (0, "")
    first, second = Intake.objects.order_by("id")
    assert second.previous == first
    assert first.planned_modality == "deep_tissue"
    assert first.signed_at.isoformat() == "2026-01-15T10:30:00+00:00"
    assert first.entered_by == therapist
    assert second.medications == []
    visit.refresh_from_db()
    assert visit.intake == second
    assert visit.current_screening().intake == second


def test_a_single_object_is_accepted_and_found_by_email(tmp_path, zoe):
    code, out, _ = _run(tmp_path, _item(zoe), "--email", "ZOE@example.com")
    assert code == 0
    assert "Imported 1 intake" in out
    assert Intake.objects.get().client == zoe


BAD_ITEMS = [
    ({"current_pain": {"score": 11}}, "current_pain.score: must be an integer from 0 to 10"),
    ({"current_pain": {"score": -1}}, "current_pain.score: must be an integer from 0 to 10"),
    ({"current_pain": {"score": 7.5}}, "current_pain.score: must be an integer from 0 to 10"),
    ({"current_pain": {"score": "abc"}}, "current_pain.score: must be an integer from 0 to 10"),
    ({"planned_modality": ...}, "planned_modality: is required"),
    ({"planned_modality": "reiki"}, "planned_modality: unknown modality"),
    ({"focus_regions": ["elbowpit"]}, "focus_regions[0]: unknown region"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth: must not"),
    ({"date_of_birth": "1970-01-01"}, "date_of_birth: does not match"),
    ({"pregnancy": {"pregnant": True, "due_date": "2001-01-01"}}, "pregnancy.due_date"),
    ({"free_text": "x" * 100_000}, "free_text: too long (100000 characters, at most 20000)"),
    ({"signature_name": ...}, "signature_name: is required"),
    ({"signature_name": "Someone Else"}, "signature_name: must be the client's full name"),
    ({"signed_at": "yesterday"}, "signed_at: must be an ISO 8601"),
    ({"signed_at": "2999-01-01T00:00:00+00:00"}, "signed_at: must not be in the future"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_ITEMS)
def test_one_bad_item_stores_nothing_and_names_the_item(tmp_path, zoe, fields, message):
    items = [_item(zoe), _item(zoe, **fields)]
    code, _, err = _run(tmp_path, items, "--client", str(zoe.pk))
    assert code == 2
    assert f"item 1: {message}" in err
    assert "item 0" not in err
    assert "Traceback" not in err
    assert Intake.objects.count() == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [("{not json", "not valid JSON"), ("[]", "no intakes"), ('["x"]', "item 0: intake: must be")],
)
def test_an_unreadable_file_stores_nothing(tmp_path, zoe, document, message):
    code, _, err = _run(tmp_path, document, "--client", str(zoe.pk))
    assert code == 2
    assert message in err
    assert Intake.objects.count() == 0


def test_an_unknown_client_is_reported(tmp_path, zoe):
    code, _, err = _run(tmp_path, _item(zoe), "--client", "999999")
    assert code == 2
    assert "no client with id 999999" in err


def test_unicode_names_and_markup_are_kept_as_text(tmp_path):
    client = ClientFactory(first_name="נועה", last_name="כהן")
    code, _, _ = _run(
        tmp_path, _item(client, signature_name="נועה כהן"), "--client", str(client.pk)
    )
    assert code == 0
    intake = Intake.objects.get()
    assert intake.signature_name == "נועה כהן"
    assert intake.conditions[0]["notes"] == "<script>x</script>"
