"""Catalogue rules and matched conditions on screening pages, in words."""

from __future__ import annotations

from screening.templatetags.screening_tags import matched_words, rule_title, rule_titles


def test_an_action_that_points_to_a_rule_by_code_names_it_by_title():
    text = "After it subsides, wait at least 7 days (see recent_illness_within_7_days)."
    shown = rule_titles(text)
    assert "recent_illness_within_7_days" not in shown
    assert shown.startswith("After it subsides, wait at least 7 days (see “")
    assert rule_titles("No code here; deep tissue is fine.") == "No code here; deep tissue is fine."


def test_a_rule_title_comes_from_the_catalogue_and_an_unknown_code_stays():
    assert rule_title("blood_thinners") == "Taking blood thinners (anticoagulants)"
    assert rule_title("no_such_rule") == "no_such_rule"


def test_a_matched_condition_is_shown_in_words_and_other_items_as_they_are():
    assert matched_words("condition: herniated_disc") == "condition: Herniated disc"
    assert matched_words("medication: warfarin 5 mg") == "medication: warfarin 5 mg"
    assert matched_words("free text: 'my_back hurts'") == "free text: 'my_back hurts'"
