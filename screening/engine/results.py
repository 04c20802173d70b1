"""What screening returns, and the one restriction policy.

`restrictions` is the one place that turns flags (minus the dismissed and resolved ones) into a
decision, blocked modalities and regions to avoid: the engine, the report, the visit badge and
the completion check all call it. `Hits` collects what a read of an intake found.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple, Protocol

from clinical import vocabulary
from clinical.catalogue import Catalogue, Source, get_catalogue
from clinical.catalogue.model import SEED

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(vocabulary.SEVERITY_ORDER)}
UNRECOGNISED = "unrecognised"
UNRECOGNISED_TITLE = "Not understood by the screener"
UNRECOGNISED_ACTION = (
    "Say which rule this is, or record why it does not matter for massage, before completing."
)
# Why a mention was not counted (stored codes; the report shows the words).
REASONS = {
    "negated": "denied",
    "family": "about someone else",
    "history": "in the past",
    "hypothetical": "a possibility, not a fact",
    "vaccine": "a vaccine, not the illness",
}


class Flag(NamedTuple):
    """One flagged rule and what matched it (immutable; a NamedTuple because the engine
    builds many per second and a frozen dataclass costs ~3 us per instance)."""

    code: str
    severity: str
    title: str
    category: str
    matched: tuple[str, ...]
    actions: tuple[str, ...]
    avoid_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]
    sources: tuple[Source, ...]
    # True when only free text matched: the therapist may dismiss it with a reason.
    free_text_only: bool = False
    # "seed" or "supplementary" (public guidance outside the clinic's source articles).
    tier: str = SEED
    # True when only a spelling guess matched ("osteoperosis" read as osteoporosis).
    fuzzy_only: bool = False
    # For `unrecognised` flags: the item ("conditions[1]: pacemaker") and suggested rules.
    item: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def dismissible(self) -> bool:
        """Return whether a therapist may dismiss this flag with a reason."""
        return (self.free_text_only or self.fuzzy_only) and self.code != UNRECOGNISED

    def to_dict(self) -> dict[str, Any]:
        """Return the flag in the SPEC section 5 shape."""
        data = {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "matched": list(self.matched),
            "actions": list(self.actions),
            "avoid_modalities": list(self.avoid_modalities),
            "avoid_regions": list(self.avoid_regions),
            "sources": [{"doc": s.doc, "quote": s.quote} for s in self.sources],
            "tier": self.tier,
        }
        if self.code == UNRECOGNISED:
            data["suggestions"] = list(self.suggestions)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, free_text_only: bool = False) -> Flag:
        """Return a flag from its SPEC section 5 dict (a stored screening's result)."""
        return cls(
            data["code"],
            data["severity"],
            data.get("title", ""),
            data.get("category", ""),
            tuple(data.get("matched", ())),
            tuple(data.get("actions", ())),
            tuple(data.get("avoid_modalities", ())),
            tuple(data.get("avoid_regions", ())),
            tuple(Source(s["doc"], s["quote"]) for s in data.get("sources", ())),
            free_text_only,
            data.get("tier", SEED),
            suggestions=tuple(data.get("suggestions", ())),
        )


class Mention(NamedTuple):
    """A mention that did not count: the rule it names, the words, the field and why."""

    code: str
    text: str
    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text, "field": self.field, "reason": self.reason}


class Restrictable(Protocol):
    """What the restriction policy needs of a flag (an engine Flag or a stored one)."""

    code: str
    severity: str
    avoid_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]


class Restrictions(NamedTuple):
    """What a set of flags means for the visit: the one policy for decision and restrictions."""

    decision: str
    flags: tuple
    blocked_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]


def restrictions(
    flags: Iterable[Restrictable],
    *,
    set_aside: Collection[Any] = (),
    catalogue: Catalogue | None = None,
) -> Restrictions:
    """Return the decision, blocked modalities and regions to avoid of the flags that count.

    The one restriction policy: the engine, the screening report, every decision badge and
    the completion check all call it. Flags in `set_aside` (dismissed by the therapist, or
    review items resolved; given as flags or as codes) no longer count. The decision is the
    most severe remaining severity (`clear` if none); blocked modalities are the union of
    the remaining flags' (`all` blocks every modality); regions to avoid always include the
    universal precautions' regions.
    """
    cat = catalogue or get_catalogue()
    counted = tuple(flag for flag in flags if flag not in set_aside and flag.code not in set_aside)
    blocked: set[str] = set()
    avoid = set(static_parts(cat)[1])
    for flag in counted:
        blocked.update(flag.avoid_modalities)
        avoid.update(flag.avoid_regions)
    if vocabulary.ALL_MODALITIES in blocked:
        blocked_modalities = vocabulary.MODALITY_CODES
    else:
        blocked_modalities = tuple(m for m in vocabulary.MODALITY_CODES if m in blocked)
    return Restrictions(
        vocabulary.most_severe(flag.severity for flag in counted),
        counted,
        blocked_modalities,
        tuple(r for r in vocabulary.AVOIDANCE_REGIONS if r in avoid),
    )


class ScreeningResult(NamedTuple):
    """The outcome of screening one intake (immutable)."""

    decision: str
    flags: tuple[Flag, ...]
    blocked_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]
    universal_precautions: tuple[str, ...]
    catalogue_version: str
    # Intake condition codes no rule knows (each is also an `unrecognised` review flag).
    unmatched_conditions: tuple[str, ...] = ()
    # Mentions that did not count: denied, someone else's, past, hypothetical, a vaccine.
    mentions_not_counted: tuple[Mention, ...] = ()
    gestational_days: int | None = None
    days_since_recovery: int | None = None
    supplementary_version: str = ""
    vocabulary_version: str = ""

    @property
    def dismissible_flags(self) -> tuple[Flag, ...]:
        """Return flags found only in free text (a therapist may dismiss them with a reason)."""
        return tuple(flag for flag in self.flags if flag.free_text_only)

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the SPEC section 5 shape (what `manage.py screen` prints)."""
        return {
            "decision": self.decision,
            "flags": [flag.to_dict() for flag in self.flags],
            "blocked_modalities": list(self.blocked_modalities),
            "avoid_regions": list(self.avoid_regions),
            "universal_precautions": list(self.universal_precautions),
            "catalogue_version": self.catalogue_version,
            "unmatched_conditions": list(self.unmatched_conditions),
            "mentions_not_counted": [m.to_dict() for m in self.mentions_not_counted],
        }


class Hits:
    """Collect, per rule index, why it matched; and the review items and uncounted mentions."""

    __slots__ = ("reasons", "structured", "exact", "review", "mentions")

    def __init__(self) -> None:
        self.reasons: dict[int, dict[str, None]] = {}
        # Rules with a reason that is not free text; rules with a reason that is no guess.
        self.structured: set[int] = set()
        self.exact: set[int] = set()
        # item -> suggestions; (code, text, field) -> reason.
        self.review: dict[str, dict[str, None]] = {}
        self.mentions: dict[tuple[str, str, str], str] = {}

    def add(self, rule: int, reason: str, *, free_text: bool = False, fuzzy: bool = False) -> None:
        self.reasons.setdefault(rule, {})[reason] = None
        if not free_text:
            self.structured.add(rule)
        if not fuzzy:
            self.exact.add(rule)

    def add_review(self, item: str, suggestions: Iterable[str] = ()) -> None:
        bucket = self.review.setdefault(item, {})
        for code in suggestions:
            bucket[code] = None

    def add_mention(self, code: str, text: str, field: str, reason: str) -> None:
        if len(text) > 1 and text[0] == text[-1] == "'":
            text = text[1:-1]  # the words themselves (SPEC section 5), not a quoted snippet
        self.mentions.setdefault((code, text, field), reason)


@functools.cache
def static_parts(cat: Catalogue) -> tuple[tuple[str, ...], frozenset[str], dict[int, int]]:
    """Return the precaution titles and regions and each rule's sort key, once per catalogue."""
    titles = tuple(p.title for p in cat.universal_precautions)
    regions = frozenset(r for p in cat.universal_precautions for r in p.avoid_regions)
    # Flags are ordered by severity, then catalogue order.
    sort_keys = {
        i: SEVERITY_RANK[rule.severity] * len(cat.rules) + i for i, rule in enumerate(cat.rules)
    }
    return titles, regions, sort_keys
