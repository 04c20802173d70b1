"""Screen one intake against the rule catalogue: intake in, result out (no Django, no DB).

The decision policy is the catalogue's `decision_policy` (from screening-knowledge.yaml):
the decision is the most severe flagged severity, `all` blocks every modality, avoid_regions
always include the universal precautions' regions, gestational age and days since recovery
are derived from the visit date. Each flag lists what matched so the therapist sees why.

Reading what people write (language.yaml and clinical.catalogue.context): lay terms,
abbreviations and misspellings point at rules; medicine brand names resolve to generics; red
flags are recognised in words; a mention that is denied, someone else's, only past (for rules
that mean a current condition), hypothetical or about a vaccine does not flag but is listed in
`mentions_not_counted`. Red flags are discounted only by an explicit denial. Anything the
screener cannot interpret (an entry, or a health word in text that maps to no rule) becomes a
`review` flag with code `unrecognised`, so `clear` means everything was understood. A spelling
guess may raise a flag, never lower one.
"""

from __future__ import annotations

from clinical import vocabulary
from clinical.catalogue import Catalogue, get_catalogue
from clinical.catalogue.model import SEED
from clinical.intake import IntakeData
from screening.engine.reading import (
    acute_ok,
    guess_entry,
    plural_targets,
    read,
    read_item,
    suggest,
    wording_note,
)
from screening.engine.results import (
    REASONS,
    SEVERITY_RANK,
    UNRECOGNISED,
    UNRECOGNISED_ACTION,
    UNRECOGNISED_TITLE,
    Flag,
    Hits,
    Mention,
    Restrictable,
    Restrictions,
    ScreeningResult,
    restrictions,
    static_parts,
)

__all__ = [
    "REASONS",
    "UNRECOGNISED",
    "Flag",
    "Mention",
    "Restrictable",
    "Restrictions",
    "ScreeningResult",
    "restrictions",
    "screen",
]

THIRD_TRIMESTER_DAYS = 28 * 7  # 28+0 weeks (editorial reading of "third trimester")
FULL_TERM_DAYS = 280
RECOVERY_DAYS = 7  # "at least a week after recovery" (004): 6 days postpones, 7 allows


def screen(intake: IntakeData, catalogue: Catalogue | None = None) -> ScreeningResult:
    """Screen a parsed intake and return the decision, flags and restrictions."""
    cat = catalogue or get_catalogue()
    hits = Hits()
    year = intake.visit_date.year
    unmatched = _match_conditions(intake, cat, hits, year)
    if intake.free_text:
        read(intake.free_text, "free_text", cat, hits, year=year, free_text=True, extras=True)
    for i, item in enumerate(intake.medications):
        read_item(item, f"medications[{i}]", "medication", cat.medication_keywords, cat, hits, year)
    for i, item in enumerate(intake.allergies):
        read_item(item, f"allergies[{i}]", "allergy", cat.allergy_keywords, cat, hits, year)
    gestational_days = _match_pregnancy(intake, cat, hits)
    days_since_recovery = _match_recent_illness(intake, cat, hits)
    _match_pain_and_red_flags(intake, cat, hits)
    return _result(cat, hits, unmatched, gestational_days, days_since_recovery)


def _match_conditions(intake: IntakeData, cat: Catalogue, hits: Hits, year: int) -> list[str]:
    unmatched: list[str] = []
    acute_rules = cat.special_rules.get("any_condition_acute_true", ())
    for i, condition in enumerate(intake.conditions):
        code, acute, notes = condition.code, condition.acute, condition.notes
        field = f"conditions[{i}]"
        words = code.replace("_", " ")
        exact = cat.condition_targets.get(code) or plural_targets(cat, code)
        understood = bool(exact)
        for target in exact:
            if target.rule < 0:
                hits.add_review(f"{field}: {words}", target.suggest)
            elif acute_ok(target, acute):
                hits.add(target.rule, f"condition: {code}" + wording_note(target))
        unit = f"{code} {notes}"
        reading = read(
            words,
            field,
            cat,
            hits,
            year=year,
            acute=acute,
            unit=unit,
            label="condition",
            extras=not exact,
            entry=code,
        )
        understood = understood or reading.understood
        reviewed = any(item.startswith(field + ":") for item in hits.review)
        if notes:
            read(
                notes,
                f"{field}.notes",
                cat,
                hits,
                year=year,
                acute=acute,
                unit=unit,
                label=f"condition notes ({code})",
                extras=True,
            )
        if acute:
            for rule in acute_rules:
                hits.add(rule, f"condition (acute): {code}")
        if not understood and not guess_entry(words, field, "condition", cat, hits, acute):
            hits.add_review(f"{field}: {words}", suggest(cat, words))
        reviewed = reviewed or any(item.startswith(field + ":") for item in hits.review)
        if reviewed and code not in unmatched:
            unmatched.append(code)
        if reviewed and notes:
            # The entry is reviewed as a whole (its notes are shown with it): no second item
            # for a word in its notes ('epilepsy' with 'last seizure 2019').
            entry = next(item for item in hits.review if item.startswith(field + ":"))
            for item in [i for i in hits.review if i.startswith(f"{field}.notes:")]:
                hits.review[entry].update(hits.review.pop(item))
    return unmatched


def _match_pregnancy(intake: IntakeData, cat: Catalogue, hits: Hits) -> int | None:
    pregnancy = intake.pregnancy
    if pregnancy is None or not pregnancy.pregnant:
        return None
    third = cat.special_rules.get("pregnancy_weeks_ge_28", ())
    earlier = cat.special_rules.get("pregnancy_weeks_lt_28", ())
    from_weeks = None if pregnancy.weeks is None else pregnancy.weeks * 7
    from_due = None
    if pregnancy.due_date is not None:
        from_due = FULL_TERM_DAYS - (pregnancy.due_date - intake.visit_date).days
    if from_weeks is None and from_due is None:
        # Policy: "ask; do not book until known". Unknown stage may be the third trimester,
        # so it is flagged like one until the therapist has the weeks or the due date.
        for rule in third:
            hits.add(
                rule,
                "pregnancy: weeks unknown (no weeks or due date); ask, do not book until known",
            )
        return None
    if from_weeks is None or (from_due is not None and from_due > from_weeks):
        days, source = from_due, "from due date"
    else:
        days, source = from_weeks, "from weeks"
    if from_weeks is not None and from_due is not None and from_weeks != from_due:
        source += (
            f"; weeks and due date disagree ({_weeks(from_weeks)} vs {_weeks(from_due)}),"
            " the larger is used"
        )
    assert days is not None
    reason = f"pregnancy: {_weeks(days)} weeks ({source})"
    for rule in third if days >= THIRD_TRIMESTER_DAYS else earlier:
        hits.add(rule, reason)
    return days


def _weeks(days: int) -> str:
    return f"{days // 7}+{days % 7}"


def _match_recent_illness(intake: IntakeData, cat: Catalogue, hits: Hits) -> int | None:
    illness = intake.recent_illness
    if illness is None:
        return None
    rules = cat.special_rules.get("recent_illness_days_lt_7", ())
    if illness.recovered_on is None:
        reason = "recent illness: not recovered yet (no recovery date)"
        days = None
    else:
        days = (intake.visit_date - illness.recovered_on).days
        if days < 0:
            reason = "recent illness: recovery date is after the visit (still ill)"
        elif days < RECOVERY_DAYS:
            unit = "day" if days == 1 else "days"
            reason = f"recent illness: recovered {days} {unit} before the visit"
        else:
            return days
    for rule in rules:
        hits.add(rule, reason)
    return days


def _match_pain_and_red_flags(intake: IntakeData, cat: Catalogue, hits: Hits) -> None:
    pain = intake.current_pain
    if pain is not None:
        if pain.character == "sharp":
            for index in cat.special_rules.get("current_pain_sharp_in_back", ()):
                back = [r for r in pain.regions if r in cat.rules[index].back_regions]
                if back:
                    hits.add(index, f"current pain: sharp in {', '.join(back)}")
        if pain.radiating:
            for index in cat.special_rules.get("current_pain_radiating", ()):
                hits.add(index, "current pain: radiating")
    for index in cat.special_rules.get("intake_red_flags", ()):
        for red_flag in intake.red_flags:
            if red_flag in cat.rules[index].red_flags:
                hits.add(index, f"red flag: {red_flag}")


def _result(
    cat: Catalogue,
    hits: Hits,
    unmatched: list[str],
    gestational_days: int | None,
    days_since_recovery: int | None,
) -> ScreeningResult:
    titles, _regions, sort_keys = static_parts(cat)
    rules = cat.rules
    structured, exact = hits.structured, hits.exact
    review_rank = SEVERITY_RANK[vocabulary.REVIEW]
    ordered = sorted(hits.reasons, key=sort_keys.__getitem__)
    rule_flags = [
        Flag(
            rules[i].code,
            rules[i].severity,
            rules[i].title,
            rules[i].category,
            tuple(hits.reasons[i]),
            rules[i].actions,
            rules[i].avoid_modalities,
            rules[i].avoid_regions,
            rules[i].sources,
            i not in structured,
            rules[i].tier,
            i not in exact,
        )
        for i in ordered
    ]
    review_flags = [
        Flag(
            UNRECOGNISED,
            vocabulary.REVIEW,
            UNRECOGNISED_TITLE,
            "other",
            (item,),
            (UNRECOGNISED_ACTION,),
            (),
            (),
            (),
            item.startswith("free_text"),
            SEED,
            False,
            item,
            tuple(suggestions),
        )
        for item, suggestions in hits.review.items()
    ]
    # Review items sit between the rules more severe than `review` and the milder ones.
    cut = next(
        (n for n, flag in enumerate(rule_flags) if SEVERITY_RANK[flag.severity] > review_rank),
        len(rule_flags),
    )
    flags = (*rule_flags[:cut], *review_flags, *rule_flags[cut:])
    policy = restrictions(flags, catalogue=cat)
    mentions = tuple(
        Mention(code, text, field, reason) for (code, text, field), reason in hits.mentions.items()
    )
    return ScreeningResult(
        policy.decision,
        flags,
        policy.blocked_modalities,
        policy.avoid_regions,
        titles,
        cat.version,
        tuple(unmatched),
        mentions,
        gestational_days,
        days_since_recovery,
        cat.supplementary_version,
        cat.vocabulary_version,
    )
