"""Tests for the client-facing advice shown after a check-in answer."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest
import yaml

from followup.advice import (
    ADVICE_FILE,
    LEVELS,
    NEVER_ADVISE,
    AdviceFileError,
    advice_for,
    parse_advice,
)
from followup.escalation import CHARACTERS, RED_FLAGS

# The product documents live beside the project root (../shared).
SHARED = Path(os.environ.get("CLINIC_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))

# Filler the knowledge file leaves out of the domain on purpose, plus medicines the page must not
# suggest without knowing what else the client takes.
NEVER_IN_ADVICE = (
    *NEVER_ADVISE,
    "selenite",
    "crystal",
    "tomato",
    "lactic",
    "peel",
    "lavender",
    "herbal",
    "aspirin",
    "pill",
    "medication",
    "medicine",
    "drug",
)


def all_texts():
    for level in LEVELS:
        advice = advice_for(level)
        yield level, advice.headline
        for item in advice.items:
            yield level, item


def test_urgent_advice_tells_the_client_to_contact_a_doctor_now_and_call_the_clinic():
    advice = advice_for("urgent")
    assert advice.contact_doctor is True
    assert "doctor now" in advice.headline
    assert any("call the clinic" in item for item in advice.items)


def test_emergency_advice_says_call_emergency_services_before_anything_else():
    advice = advice_for("emergency")
    assert (advice.emergency, advice.contact_doctor) == (True, True)
    assert advice.headline.startswith("Call emergency services now.")
    assert not any(advice_for(level).emergency for level in ("urgent", "review", None))


@pytest.mark.parametrize("level", ["review", None])
def test_advice_without_an_escalation_still_says_bladder_trouble_is_an_emergency(level):
    assert any(
        "bladder" in item and "emergency services now" in item for item in advice_for(level).items
    )


def test_review_advice_says_the_therapist_will_be_in_touch_and_gives_self_care():
    advice = advice_for("review")
    assert advice.contact_doctor is False
    assert "therapist will contact you" in advice.headline
    assert any("water" in item for item in advice.items)


def test_no_escalation_gives_expected_soreness_self_care():
    advice = advice_for(None)
    assert advice.contact_doctor is False
    assert "normal" in advice.headline
    text = " ".join(advice.items).lower()
    for self_care in ("water", "rest", "light stretching", "warm bath", "cold pack", "warm pack"):
        assert self_care in text


@pytest.mark.parametrize("level", ["review", None])
def test_non_urgent_advice_still_lists_the_warning_signs(level):
    text = " ".join(advice_for(level).items)
    assert "numbness" in text
    assert "contact a doctor straight away" in text


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown escalation level"):
        advice_for("high")


@pytest.mark.parametrize(("level", "text"), list(all_texts()))
def test_advice_never_mentions_do_not_advise_items_or_filler(level, text):
    lowered = text.lower()
    for term in NEVER_IN_ADVICE:
        assert term not in lowered, (level, term)


def test_never_advise_covers_every_do_not_advise_signal_in_the_knowledge_file():
    knowledge = _knowledge()
    banned = [s for s in knowledge["followup_signals"] if s["kind"] == "do_not_advise"]
    assert banned, "the knowledge file should list at least one do_not_advise item"
    for signal in banned:
        quote = " ".join(source["quote"] for source in signal["sources"]).lower()
        assert any(term in quote for term in NEVER_ADVISE), signal["code"]
    used = {source.signal for level in LEVELS for source in advice_for(level).sources}
    assert not used & {signal["code"] for signal in banned}


@pytest.mark.parametrize(("level", "text"), list(all_texts()))
def test_advice_is_short_plain_and_shows_no_scores_or_codes(level, text):
    assert len(text) <= 220, (level, text)
    assert not re.search(r"\d", text), (level, text)  # no scores, hours or rule numbers
    assert not re.search(r"\b[UR][1-4]\b", text)
    assert "_" not in text  # no vocabulary codes such as limb_weakness
    for jargon in ("DOMS", "contraindicat", "escalat", "hematoma", "radiat"):
        assert jargon.lower() not in text.lower(), (level, jargon)


def test_advice_depends_on_the_level_only_so_it_cannot_repeat_the_clients_answers():
    assert list(inspect.signature(advice_for).parameters) == ["level"]


def test_every_piece_of_advice_cites_a_followup_signal_quote():
    for level in LEVELS:
        advice = advice_for(level)
        assert advice.headline == advice.messages[0].text
        for message in advice.messages:
            assert message.sources, message.code


def test_advice_quotes_are_verbatim_from_the_knowledge_file_signals():
    signals = {s["code"]: s for s in _knowledge()["followup_signals"]}
    for level in LEVELS:
        for source in advice_for(level).sources:
            assert source.signal in signals, source
            assert signals[source.signal]["kind"] in {"normal", "warning", "self_care"}
            quotes = {(q["doc"], q["quote"]) for q in signals[source.signal]["sources"]}
            assert (source.doc, source.quote) in quotes, source


def test_advice_quotes_are_verbatim_from_the_seed_documents():
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("seed documents not available (set CLINIC_SHARED_DIR)")
    for level in LEVELS:
        for source in advice_for(level).sources:
            assert source.quote in (seeds / source.doc).read_text(encoding="utf-8"), source


def test_advice_file_never_mentions_vocabulary_codes_in_client_text():
    data = yaml.safe_load(ADVICE_FILE.read_text(encoding="utf-8"))
    for code, message in data["messages"].items():
        for word in (*RED_FLAGS, *CHARACTERS):
            if "_" in word:
                assert word not in message["text"], code


def _advice_data():
    return yaml.safe_load(ADVICE_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("levels"), "levels: must be a non-empty mapping"),
        (lambda d: d["levels"].pop("urgent"), "levels.urgent: needs headline"),
        (lambda d: d["levels"]["review"].update(items=["nope"]), "unknown messages"),
        (lambda d: d["messages"]["drink_water"].update(sources=[]), "needs at least one source"),
        (lambda d: d["messages"]["drink_water"].update(text=""), "needs a text"),
        (
            lambda d: d["messages"]["drink_water"].update(text="Antipsychotics help."),
            "must never advise 'antipsychotic'",
        ),
        (
            lambda d: d["messages"]["drink_water"]["sources"][0].pop("quote"),
            "each source needs signal, doc and quote",
        ),
    ],
)
def test_a_broken_advice_file_is_refused(change, message):
    data = _advice_data()
    change(data)
    with pytest.raises(AdviceFileError, match=re.escape(message)):
        parse_advice(data)


def _knowledge():
    path = SHARED / "screening-knowledge.yaml"
    if not path.is_file():
        pytest.skip("screening-knowledge.yaml not available (set CLINIC_SHARED_DIR)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))
