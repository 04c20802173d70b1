"""Choose the advice a client sees after answering a check-in.

Pure: no Django imports. The wording lives in advice.yaml next to this module, where every
sentence cites the `followup_signals` quotes it comes from. Advice depends on the escalation
level only, so it can never repeat the client's condition, answers or scores. The clinic's
phone number is added by the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ADVICE_FILE = Path(__file__).with_name("advice.yaml")
# "emergency" is an urgent answer with a sign that needs emergency services now
# (followup.escalation.needs_emergency_services); the others are the escalation levels.
EMERGENCY = "emergency"
LEVELS = (EMERGENCY, "urgent", "review", None)

# The knowledge file's do_not_advise items (never_advise_antipsychotics: seed 004 suggests
# antipsychotics for pain after massage) and medicine names we deliberately leave to a doctor:
# the page does not know what else the client takes (seed 001). Checked when the file loads.
NEVER_ADVISE = ("antipsychotic", "sedative", "ibuprofen", "acetaminophen", "paracetamol")


class AdviceFileError(ValueError):
    """Raised when advice.yaml is malformed; the app should not start with bad advice."""


@dataclass(frozen=True)
class Source:
    """A verbatim seed quote behind a sentence, and the follow-up signal that carries it."""

    signal: str
    doc: str
    quote: str


@dataclass(frozen=True)
class Message:
    """One client-facing sentence and where it comes from."""

    code: str
    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Advice:
    """What the answer page shows: a headline, short items, whether to see a doctor now and
    whether to call emergency services first."""

    headline: str
    items: tuple[str, ...]
    contact_doctor: bool
    messages: tuple[Message, ...]
    emergency: bool = False

    @property
    def sources(self) -> tuple[Source, ...]:
        """Return every source behind this advice, headline first, without duplicates."""
        return tuple(dict.fromkeys(s for message in self.messages for s in message.sources))


def advice_for(level: str | None) -> Advice:
    """Return the advice for "emergency", an escalation level ("urgent", "review") or None."""
    if level not in LEVELS:
        raise ValueError(f"unknown escalation level {level!r}")
    return _load()[level]


@cache
def _load() -> dict[str | None, Advice]:
    with ADVICE_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return parse_advice(data)


def parse_advice(data: Any) -> dict[str | None, Advice]:
    """Build the advice for each level from advice.yaml's content, or raise AdviceFileError."""
    if not isinstance(data, Mapping):
        raise AdviceFileError("advice file must be a mapping")
    messages = {code: _parse_message(code, raw) for code, raw in _mapping(data, "messages").items()}
    levels = _mapping(data, "levels")
    advice: dict[str | None, Advice] = {}
    for level in LEVELS:
        key = level or "none"
        raw = levels.get(key)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("contact_doctor"), bool):
            raise AdviceFileError(f"levels.{key}: needs headline, items and contact_doctor")
        if not isinstance(raw.get("emergency", False), bool):
            raise AdviceFileError(f"levels.{key}: emergency must be true or false")
        codes = [raw.get("headline"), *(raw.get("items") or [])]
        unknown = [code for code in codes if code not in messages]
        if unknown:
            raise AdviceFileError(f"levels.{key}: unknown messages {unknown}")
        chosen = tuple(messages[code] for code in codes)
        advice[level] = Advice(
            headline=chosen[0].text,
            items=tuple(message.text for message in chosen[1:]),
            contact_doctor=raw["contact_doctor"],
            messages=chosen,
            emergency=raw.get("emergency", False),
        )
    return advice


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping) or not value:
        raise AdviceFileError(f"{key}: must be a non-empty mapping")
    return value


def _parse_message(code: str, raw: Any) -> Message:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("text"), str) or not raw["text"]:
        raise AdviceFileError(f"messages.{code}: needs a text")
    text = " ".join(raw["text"].split())
    lowered = text.lower()
    for term in NEVER_ADVISE:
        if term in lowered:
            raise AdviceFileError(f"messages.{code}: must never advise {term!r}")
    sources = raw.get("sources")
    if not isinstance(sources, list) or not sources:
        raise AdviceFileError(f"messages.{code}: needs at least one source")
    parsed = []
    for source in sources:
        if not isinstance(source, Mapping) or not all(
            isinstance(source.get(key), str) and source[key] for key in ("signal", "doc", "quote")
        ):
            raise AdviceFileError(f"messages.{code}: each source needs signal, doc and quote")
        parsed.append(Source(signal=source["signal"], doc=source["doc"], quote=source["quote"]))
    return Message(code=code, text=text, sources=tuple(parsed))
