"""Decide whether a visit's follow-up answers escalate to the therapist.

This is the pure follow-up brain: baseline pain and check-in answers in, a level out. It
implements `followup_policy` from screening-knowledge.yaml exactly (urgent U1-U4, review
R1-R4). It has no Django imports; the answer page, the Celery path and
`manage.py evaluate_followup` all call `evaluate()` and nothing re-implements it.

Decisions the policy leaves open, made here once:

- Answers may come in any order; they are evaluated sorted by hours. Two answers with the
  same hours are an input error.
- The previous score is the baseline for the first answer given and the previous answer's
  score afterwards, so with the 48 h check-in unanswered the 72 h answer is compared to the
  24 h one.
- The 72-h rules (U4, R3) apply only to the answer with hours == 72, and score_24/score_48
  are the answers with hours == 24/48 exactly. The web layer passes the nominal 24/48/72
  for each check-in position; answers at other hours get every per-answer rule (U1-U3,
  R1, R2, R4) and take part in the previous-score chain, but never fill a 72-h slot.
- U4 is a trend ("still rising after 2 days of rest"): it needs all three scores, 24, 48
  and 72 h, exactly as the policy states it. R3 compares score_72 with the earlier answers
  that exist, so a client who skipped a check-in and is no better at 72 h is still reviewed.
- Reasons are ordered by hours, then urgent before review, then rule number: the most
  severe reason of each check-in comes first.
- Input is strict about values (parse_followup): integers that are not booleans or floats,
  known characters and red flags. Fields other than the contract's are ignored, so a case
  file may carry its own ids or comments; `radiating` defaults to false and `red_flags` to
  an empty list when left out. Character and red flags are matched ignoring case and spaces, and
  red flags also accept the vocabulary's few plain-word aliases (`also_called`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clinical import vocabulary

URGENT = vocabulary.URGENT
REVIEW = vocabulary.REVIEW_LEVEL

# The answer's vocabularies (clinical.vocabulary): pain characters, and the red flags with
# the level each triggers (U1 urgent, R4 review).
CHARACTERS = vocabulary.PAIN_CHARACTER_CODES
URGENT_RED_FLAGS = tuple(f.code for f in vocabulary.FOLLOWUP_RED_FLAGS if f.level == URGENT)
REVIEW_RED_FLAGS = tuple(f.code for f in vocabulary.FOLLOWUP_RED_FLAGS if f.level == REVIEW)
RED_FLAGS = URGENT_RED_FLAGS + REVIEW_RED_FLAGS
# Urgent signs that need emergency services now rather than a doctor today (trouble
# controlling bladder or bowels: a possible spinal emergency); marked `emergency` in the
# vocabulary. They escalate as U1 like the other urgent signs; only the advice differs.
EMERGENCY_RED_FLAGS = tuple(f.code for f in vocabulary.FOLLOWUP_RED_FLAGS if f.emergency)

SCORE_MIN = 0
SCORE_MAX = 10
MAX_HOURS = 720  # 30 days; check-in links expire after a week, so anything later is a mistake
MAX_ANSWERS = 10

SIGNIFICANT_SCORE = 4  # 0-3 is "mild" (rationale in followup_policy); 4 and up can escalate
SIGNIFICANT_RISE = 2  # R2: "+2 points" over the previous score
SEVERE_SHARP_SCORE = 7  # U3: sharp and severe (>= 7/10)
END_OF_WINDOW_HOURS = 72  # U4 and R3 are "at 72 h" rules

_URGENT_RULES = ("U1", "U2", "U3", "U4")
_REVIEW_RULES = ("R1", "R2", "R3", "R4")
_ANSWER_FIELDS = ("hours", "score", "character", "radiating", "red_flags")
_FOLLOWUP_FIELDS = ("baseline_pain", "answers")


class FollowupInputError(ValueError):
    """Raised for follow-up input that breaks the contract; names the field path."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)


@dataclass(frozen=True, kw_only=True)
class Answer:
    """One check-in answer, with the canonical vocabulary (see parse_followup for input)."""

    hours: int
    score: int
    character: str
    radiating: bool = False
    red_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers may pass a list (a form's cleaned data); keep the dataclass hashable.
        object.__setattr__(self, "red_flags", tuple(self.red_flags))


@dataclass(frozen=True)
class Reason:
    """A policy rule that fired at one check-in."""

    rule: str
    hours: int

    def to_dict(self) -> dict[str, Any]:
        """Return the contract's {"rule": ..., "hours": ...} shape."""
        return {"rule": self.rule, "hours": self.hours}


@dataclass(frozen=True)
class EscalationResult:
    """The highest level reached, the first check-in that reached it, and every rule fired."""

    level: str | None = None
    at_hours: int | None = None
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def escalate(self) -> bool:
        """Return True when the therapist must be told."""
        return self.level is not None

    @property
    def rules(self) -> list[str]:
        """Return the ids of the rules that fired, without duplicates, in reason order."""
        return list(dict.fromkeys(reason.rule for reason in self.reasons))

    def to_dict(self) -> dict[str, Any]:
        """Return the `evaluate_followup` output object."""
        return {
            "escalate": self.escalate,
            "level": self.level,
            "at_hours": self.at_hours,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


def evaluate(*, baseline_pain: int, answers: Sequence[Answer]) -> EscalationResult:
    """Apply followup_policy to a visit's baseline pain and all its answers so far."""
    _check_score(baseline_pain, "baseline_pain")
    ordered = _checked_in_order(answers)
    by_hours = {answer.hours: answer for answer in ordered}

    reasons: list[Reason] = []
    first_reached: dict[str, int] = {}
    previous = baseline_pain
    for answer in ordered:
        urgent = _urgent_rules(answer, baseline_pain, by_hours)
        review = _review_rules(answer, previous, baseline_pain, by_hours, urgent=bool(urgent))
        reasons.extend(Reason(rule, answer.hours) for rule in urgent + review)
        if urgent:
            first_reached.setdefault(URGENT, answer.hours)
        if review:
            first_reached.setdefault(REVIEW, answer.hours)
        previous = answer.score

    level = URGENT if URGENT in first_reached else REVIEW if REVIEW in first_reached else None
    at_hours = first_reached[level] if level else None
    return EscalationResult(level=level, at_hours=at_hours, reasons=tuple(reasons))


def needs_emergency_services(red_flags: Sequence[str]) -> bool:
    """Return whether an answer's red flags call for emergency services now."""
    return any(flag in EMERGENCY_RED_FLAGS for flag in red_flags)


def _urgent_rules(answer: Answer, baseline: int, by_hours: Mapping[int, Answer]) -> list[str]:
    fired = []
    if any(flag in URGENT_RED_FLAGS for flag in answer.red_flags):
        fired.append("U1")
    if answer.radiating:
        fired.append("U2")
    if answer.character == "sharp" and answer.score >= SEVERE_SHARP_SCORE:
        fired.append("U3")
    if answer.hours == END_OF_WINDOW_HOURS and _still_rising(baseline, by_hours):
        fired.append("U4")
    return fired


def _review_rules(
    answer: Answer,
    previous: int,
    baseline: int,
    by_hours: Mapping[int, Answer],
    *,
    urgent: bool,
) -> list[str]:
    fired = []
    if answer.character == "sharp" and not urgent:
        fired.append("R1")
    if answer.score >= previous + SIGNIFICANT_RISE and answer.score >= SIGNIFICANT_SCORE:
        fired.append("R2")
    if answer.hours == END_OF_WINDOW_HOURS and _no_improvement(baseline, by_hours):
        fired.append("R3")
    if any(flag in REVIEW_RED_FLAGS for flag in answer.red_flags):
        fired.append("R4")
    return fired


def _window_score(by_hours: Mapping[int, Answer], hours: int) -> int | None:
    answer = by_hours.get(hours)
    return answer.score if answer else None


def _still_rising(baseline: int, by_hours: Mapping[int, Answer]) -> bool:
    """Check U4: score_24 < score_48 < score_72, score_72 >= 4 and >= baseline + 2."""
    score_24, score_48 = _window_score(by_hours, 24), _window_score(by_hours, 48)
    score_72 = by_hours[END_OF_WINDOW_HOURS].score
    if score_24 is None or score_48 is None:
        return False
    return (
        score_24 < score_48 < score_72
        and score_72 >= SIGNIFICANT_SCORE
        and score_72 >= baseline + SIGNIFICANT_RISE
    )


def _no_improvement(baseline: int, by_hours: Mapping[int, Answer]) -> bool:
    """Check R3: score_72 > baseline and score_72 >= max(score_24, score_48)."""
    score_72 = by_hours[END_OF_WINDOW_HOURS].score
    earlier = [_window_score(by_hours, 24), _window_score(by_hours, 48)]
    return score_72 > baseline and all(score_72 >= s for s in earlier if s is not None)


def _checked_in_order(answers: Sequence[Answer]) -> list[Answer]:
    """Return the answers sorted by hours, after checking each against the vocabulary."""
    if len(answers) > MAX_ANSWERS:
        raise FollowupInputError("answers", f"must have at most {MAX_ANSWERS} answers")
    seen: dict[int, int] = {}
    for index, answer in enumerate(answers):
        path = f"answers[{index}]"
        _check_hours(answer.hours, f"{path}.hours")
        _check_score(answer.score, f"{path}.score")
        if answer.character not in CHARACTERS:
            raise FollowupInputError(f"{path}.character", _one_of(CHARACTERS))
        if not isinstance(answer.radiating, bool):
            raise FollowupInputError(f"{path}.radiating", "must be true or false")
        for flag_index, flag in enumerate(answer.red_flags):
            if flag not in RED_FLAGS:
                raise FollowupInputError(
                    f"{path}.red_flags[{flag_index}]", f"unknown red flag {_show(flag)}"
                )
        if answer.hours in seen:
            raise FollowupInputError(
                f"{path}.hours",
                f"duplicate check-in at {answer.hours} hours (also answers[{seen[answer.hours]}])",
            )
        seen[answer.hours] = index
    return sorted(answers, key=lambda answer: answer.hours)


def _is_int(value: object) -> bool:
    # bool is a subclass of int in Python, but `true` is not a pain score.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_score(value: object, path: str) -> None:
    if not _is_int(value) or not SCORE_MIN <= value <= SCORE_MAX:
        raise FollowupInputError(path, f"must be an integer from {SCORE_MIN} to {SCORE_MAX}")


def _check_hours(value: object, path: str) -> None:
    if not _is_int(value) or not 1 <= value <= MAX_HOURS:
        raise FollowupInputError(path, f"must be a whole number of hours from 1 to {MAX_HOURS}")


def _one_of(choices: Sequence[str]) -> str:
    return "must be one of " + ", ".join(choices)


def _show(value: object) -> str:
    """Return a short, escaped rendering of client input for an error message."""
    text = json.dumps(value, ensure_ascii=True) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


# ---- input parsing ---------------------------------------------------------------------------


def parse_followup(obj: object) -> tuple[int, list[Answer]]:
    """Validate one `evaluate_followup` input object; return baseline pain and answers."""
    obj = _check_object(obj, "", _FOLLOWUP_FIELDS)
    baseline = _field(obj, "", "baseline_pain")
    _check_score(baseline, "baseline_pain")

    raw_answers = _field(obj, "", "answers")
    if not isinstance(raw_answers, list):
        raise FollowupInputError("answers", "must be a list of answers")
    if len(raw_answers) > MAX_ANSWERS:
        raise FollowupInputError("answers", f"must have at most {MAX_ANSWERS} answers")
    answers = [_parse_answer(item, f"answers[{i}]") for i, item in enumerate(raw_answers)]
    _checked_in_order(answers)  # duplicate hours, reported with the input's indexes
    return baseline, answers


def _check_object(obj: object, path: str, fields: Sequence[str]) -> Mapping[str, Any]:
    """Return obj when it is a mapping; fields beyond the given ones are ignored."""
    if not isinstance(obj, Mapping):
        raise FollowupInputError(path, "must be a JSON object with " + ", ".join(fields))
    return obj


def _field(obj: Mapping[str, Any], path: str, name: str) -> Any:
    if name not in obj:
        raise FollowupInputError(f"{path}.{name}" if path else name, "required field is missing")
    return obj[name]


def _parse_answer(item: object, path: str) -> Answer:
    item = _check_object(item, path, _ANSWER_FIELDS)
    hours = _field(item, path, "hours")
    _check_hours(hours, f"{path}.hours")
    score = _field(item, path, "score")
    _check_score(score, f"{path}.score")

    character = _field(item, path, "character")
    if isinstance(character, str):
        character = character.strip().lower()
    if character not in CHARACTERS:
        raise FollowupInputError(f"{path}.character", _one_of(CHARACTERS))

    radiating = item.get("radiating", False)
    if not isinstance(radiating, bool):
        raise FollowupInputError(f"{path}.radiating", "must be true or false")

    red_flags = _parse_red_flags(item.get("red_flags", []), f"{path}.red_flags")
    return Answer(
        hours=hours, score=score, character=character, radiating=radiating, red_flags=red_flags
    )


def _parse_red_flags(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise FollowupInputError(path, "must be a list of red flags (may be empty)")
    flags: list[str] = []
    for index, raw in enumerate(value):
        if not isinstance(raw, str):
            raise FollowupInputError(f"{path}[{index}]", "must be a string")
        flag = vocabulary.normalise_followup_red_flag(raw)
        if flag is None:
            raise FollowupInputError(
                f"{path}[{index}]", f"unknown red flag {_show(raw)}; {_one_of(RED_FLAGS)}"
            )
        if flag in flags:
            raise FollowupInputError(f"{path}[{index}]", f"duplicate red flag {_show(raw)}")
        flags.append(flag)
    return tuple(flags)
