from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from clinical import catalogue as catalogue_module
from clinical.catalogue import (
    CatalogueError,
    compile_catalogue,
    get_catalogue,
    load_raw,
    validate_catalogue,
)
from clinical.vocabulary import VOCABULARY_PATH
from screening.checks import check_catalogue

# The shared sources sit beside the checkout (or one level further up for a nested one).
SHARED = next(
    (
        parent / "shared"
        for parent in Path(__file__).resolve().parents[3:5]
        if (parent / "shared" / "screening-knowledge.yaml").exists()
    ),
    Path(__file__).resolve().parents[3] / "shared",
)
KNOWLEDGE = SHARED / "screening-knowledge.yaml"
SUPPLEMENTARY = SHARED / "screening-supplementary.yaml"
SEEDS = KNOWLEDGE.parent / "seeds"


@pytest.fixture
def raw():
    return copy.deepcopy(load_raw())


def _rule(raw, code):
    return next(rule for rule in raw["rules"] if rule["code"] == code)


def test_shipped_catalogue_is_valid_and_has_all_fifty_rules(raw):
    assert validate_catalogue(raw) == []
    catalogue = get_catalogue()
    tiers = [rule.tier for rule in catalogue.rules]
    assert tiers.count("seed") == 50
    assert tiers.count("supplementary") == 13
    # The rules' version, then the version of the words they are read with (language.yaml).
    assert catalogue.version == "1.1"
    assert catalogue.supplementary_version == "1"
    assert len(catalogue.universal_precautions) == 10


def test_get_catalogue_is_loaded_once():
    assert get_catalogue() is get_catalogue()


def test_every_rule_keeps_sources_with_doc_and_quote():
    for rule in get_catalogue().rules:
        assert rule.sources, rule.code
        if rule.tier == "seed":
            assert all(source.doc.endswith(".txt") and source.quote for source in rule.sources)
        else:
            assert all(source.doc.startswith("http") and source.quote for source in rule.sources)


@pytest.mark.skipif(not KNOWLEDGE.exists(), reason="shared knowledge file not available")
def test_rules_match_the_knowledge_file_exactly():
    knowledge = yaml.safe_load(KNOWLEDGE.read_text(encoding="utf-8"))
    shipped = load_raw()
    assert [r["code"] for r in shipped["rules"]] == [r["code"] for r in knowledge["rules"]]
    for ours, theirs in zip(shipped["rules"], knowledge["rules"], strict=True):
        for key in (
            "title",
            "category",
            "severity",
            "avoid_modalities",
            "avoid_regions",
            "actions",
            "note",
            "sources",
        ):
            assert ours.get(key) == theirs.get(key), (ours["code"], key)
    assert shipped["universal_precautions"] == knowledge["universal_precautions"]
    vocabulary_data = yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8"))
    # The vocabulary adds plain-word labels; everything else is the knowledge file's.
    modalities = [
        {k: v for k, v in m.items() if k != "label"} for m in vocabulary_data["modalities"]
    ]
    assert modalities == knowledge["modalities"]
    assert vocabulary_data["avoidance_regions"] == knowledge["regions"]


@pytest.mark.skipif(not SEEDS.exists(), reason="shared seeds not available")
def test_every_quote_is_verbatim_in_its_seed_document():
    raw = load_raw()
    vocabulary_data = yaml.safe_load(VOCABULARY_PATH.read_text(encoding="utf-8"))
    items = raw["rules"] + raw["universal_precautions"] + vocabulary_data["modalities"]
    texts = {path.name: path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt")}
    for item in items:
        for source in item.get("sources", []):
            assert source["quote"] in texts[source["doc"]], (item["code"], source["quote"])


def test_curly_apostrophes_survive_in_quotes():
    quotes = [s.quote for rule in get_catalogue().rules for s in rule.sources]
    assert any("body’s response" in quote for quote in quotes)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Deep Tissue", "deep_tissue"),
        ("classic", "swedish"),
        ("Thai massage", "thai"),
        ("reiki", None),
        ("all", None),
    ],
)
def test_normalise_modality_accepts_codes_and_aliases(name, code):
    assert get_catalogue().normalise_modality(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("lower back", "lumbar"),
        ("Lumbar", "lumbar"),
        ("hip joint", "hip_joint"),
        ("feet", "feet"),
        ("elbowz", None),
    ],
)
def test_normalise_region_accepts_codes_and_aliases(name, code):
    assert get_catalogue().normalise_region(name) == code


def test_every_catalogue_region_is_an_intake_region():
    catalogue = get_catalogue()
    assert set(catalogue.regions) <= {r.code for r in catalogue.intake_regions}


def test_condition_choices_group_checkbox_rules_by_category():
    choices = get_catalogue().condition_choices()
    categories = [category.code for category, _rules in choices]
    assert "spine" in categories and "infection" in categories
    offered = [rule.code for _category, rules in choices for rule in rules]
    assert "herniated_disc" in {
        c for _cat, rules in choices for r in rules for c in r.condition_codes
    }
    assert "scoliosis_chronic" in offered
    assert "scoliosis_acute_stage" not in offered  # the "acute now" toggle covers it
    assert "pregnancy_third_trimester" not in offered  # asked separately, not a checkbox


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda r: _rule(r, "thrombosis").update(severity="severe"),
            "rule 'thrombosis': unknown severity 'severe'",
        ),
        (
            lambda r: _rule(r, "osteoporosis").update(avoid_modalities=["deep_tisue"]),
            "rule 'osteoporosis': unknown modality 'deep_tisue' in avoid_modalities",
        ),
        (
            lambda r: _rule(r, "spinal_stenosis").update(avoid_regions=["spinee"]),
            "rule 'spinal_stenosis': unknown region 'spinee' in avoid_regions",
        ),
        (lambda r: _rule(r, "myositis").update(sources=[]), "rule 'myositis': missing sources"),
        (
            lambda r: _rule(r, "myositis")["sources"][0].pop("quote"),
            "rule 'myositis': sources[0] missing quote",
        ),
        (
            lambda r: _rule(r, "myositis")["sources"][0].update(doc=""),
            "rule 'myositis': sources[0] missing doc",
        ),
        (
            lambda r: r["rules"].append(copy.deepcopy(_rule(r, "tuberculosis"))),
            "rule 'tuberculosis': duplicate code",
        ),
        (
            lambda r: _rule(r, "bleeding")["match"].update(special="moon_phase"),
            "rule 'bleeding': unknown special matcher 'moon_phase'",
        ),
        (
            lambda r: _rule(r, "bleeding").update(avoid_modalities=["all", "thai"]),
            "rule 'bleeding': 'all' must be alone in avoid_modalities",
        ),
        (lambda r: _rule(r, "aneurysm").pop("title"), "rule 'aneurysm': missing title"),
        (
            lambda r: _rule(r, "aneurysm").update(match={}),
            "rule 'aneurysm': match has nothing to match on",
        ),
        (
            lambda r: _rule(r, "scoliosis_chronic")["match"].update(requires_acute="no"),
            "rule 'scoliosis_chronic': match.requires_acute must be true, false or absent",
        ),
        (
            lambda r: _rule(r, "intake_red_flag_symptoms")["match"].update(red_flags=["dizziness"]),
            "rule 'intake_red_flag_symptoms': unknown red flag 'dizziness' in match.red_flags",
        ),
    ],
)
def test_validate_catalogue_names_the_broken_rule(raw, breakage, message):
    breakage(raw)
    assert message in validate_catalogue(raw)
    with pytest.raises(CatalogueError):
        compile_catalogue(raw)


def test_validate_catalogue_rejects_a_non_mapping():
    assert validate_catalogue([]) == ["catalogue: must be a mapping"]


def test_system_check_passes_for_the_shipped_catalogue():
    assert check_catalogue() == []


def test_system_check_reports_a_broken_catalogue_naming_the_rule(raw, tmp_path, monkeypatch):
    _rule(raw, "thrombosis")["severity"] = "severe"
    _rule(raw, "osteoporosis")["avoid_regions"] = ["knees"]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(catalogue_module, "CATALOGUE_PATH", path)
    errors = check_catalogue()
    assert [e.id for e in errors] == ["screening.E002", "screening.E002"]
    assert "rule 'thrombosis': unknown severity 'severe'" in errors[0].msg
    assert "rule 'osteoporosis': unknown region 'knees' in avoid_regions" in errors[1].msg


def test_system_check_reports_an_unreadable_catalogue(tmp_path, monkeypatch):
    path = tmp_path / "catalogue.yaml"
    path.write_text("rules: [unclosed", encoding="utf-8")
    monkeypatch.setattr(catalogue_module, "CATALOGUE_PATH", path)
    errors = check_catalogue()
    assert len(errors) == 1 and errors[0].id == "screening.E001"


def test_system_check_is_registered_with_django():
    from django.core import checks

    assert check_catalogue in checks.registry.registry.get_checks()


def test_condition_choices_are_worked_out_once_per_catalogue(raw):
    catalogue = get_catalogue()
    assert catalogue.condition_choices() is catalogue.condition_choices()

    # A catalogue compiled again under the same version (as here) gets choices of its own.
    _rule(raw, "osteoporosis")["title"] = "Brittle bones"
    edited = compile_catalogue(
        raw,
        supplementary=load_raw(catalogue_module.SUPPLEMENTARY_PATH),
        language=load_raw(catalogue_module.LANGUAGE_PATH),
    )
    titles = {rule.title for _category, rules in edited.condition_choices() for rule in rules}
    assert "Brittle bones" in titles
    assert edited.version == catalogue.version
    assert catalogue.condition_choices() is not edited.condition_choices()


@pytest.mark.skipif(not SUPPLEMENTARY.exists(), reason="shared supplementary file not available")
def test_supplementary_rules_are_the_drafts_exactly():
    drafts = yaml.safe_load(SUPPLEMENTARY.read_text(encoding="utf-8"))
    shipped = load_raw(catalogue_module.SUPPLEMENTARY_PATH)
    assert shipped["rules"] == drafts["rules"]
    assert shipped["source_documents"] == drafts["source_documents"]


def _all_raw():
    return (
        copy.deepcopy(load_raw()),
        copy.deepcopy(load_raw(catalogue_module.SUPPLEMENTARY_PATH)),
        copy.deepcopy(load_raw(catalogue_module.LANGUAGE_PATH)),
    )


def _supp(supplementary, code):
    return next(rule for rule in supplementary["rules"] if rule["code"] == code)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda raw, supp, lang: _supp(supp, "asthma").update(code="thrombosis"),
            "supplementary rule 'thrombosis': duplicate code (already in the seed tier)",
        ),
        (
            lambda raw, supp, lang: _supp(supp, "asthma")["sources"][1].update(quote=""),
            "supplementary rule 'asthma': sources[1] missing quote",
        ),
        (
            lambda raw, supp, lang: _supp(supp, "asthma").update(severity="serious"),
            "supplementary rule 'asthma': unknown severity 'serious'",
        ),
        (
            lambda raw, supp, lang: _supp(supp, "infectious_disease__match_extension").update(
                extends="gout"
            ),
            "supplementary rule 'infectious_disease__match_extension': extends an unknown "
            "seed rule 'gout'",
        ),
        (
            lambda raw, supp, lang: lang["rules"].update(gout={"terms": ["gout"]}),
            "language rule 'gout': no such rule in either tier",
        ),
        (
            lambda raw, supp, lang: lang["rules"]["fracture"].update(when_past="healed"),
            "language rule 'fracture': when_past names an unknown rule 'healed'",
        ),
    ],
)
def test_validation_covers_both_tiers_and_the_language(breakage, message):
    raw, supplementary, language = _all_raw()
    breakage(raw, supplementary, language)
    assert message in catalogue_module.validate_all(raw, supplementary, language)
    with pytest.raises(CatalogueError):
        compile_catalogue(raw, supplementary=supplementary, language=language)


def test_system_check_reports_a_broken_supplementary_tier(tmp_path, monkeypatch):
    _raw, supplementary, _language = _all_raw()
    _supp(supplementary, "asthma")["code"] = "thrombosis"
    path = tmp_path / "supplementary.yaml"
    path.write_text(yaml.safe_dump(supplementary, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(catalogue_module, "SUPPLEMENTARY_PATH", path)
    errors = check_catalogue()
    assert {e.id for e in errors} == {"screening.E002"}
    assert any("'thrombosis': duplicate code" in e.msg for e in errors)


def test_with_the_tier_off_its_rules_are_withheld_not_dropped():
    off = get_catalogue(supplementary=False)
    assert off.supplementary_version == ""
    assert {rule.code for rule in off.withheld_rules} == {
        rule.code for rule in get_catalogue().rules if rule.tier == "supplementary"
    }
    assert all(rule.tier == "seed" for rule in off.rules)


def test_every_rule_has_at_least_three_lay_terms_and_every_red_flag_five():
    language = load_raw(catalogue_module.LANGUAGE_PATH)
    for rule in get_catalogue().rules:
        entry = language["rules"].get(rule.code, {})
        terms = [p for t in entry.get("terms", []) for p in catalogue_module.expand(t)]
        terms += [
            p
            for ts in (entry.get("red_flags") or {}).values()
            for t in ts
            for p in catalogue_module.expand(t)
        ]
        assert len(terms) >= 3, rule.code
    red_flags = language["rules"]["intake_red_flag_symptoms"]["red_flags"]
    for code, terms in red_flags.items():
        assert len([p for t in terms for p in catalogue_module.expand(t)]) >= 5, code


def test_language_marks_itself_editorial():
    assert load_raw(catalogue_module.LANGUAGE_PATH)["editorial"] is True
