"""docs/sources.md names every article the catalogue and the advice cite, and only those."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CLINIC_SHARED_DIR", ROOT.parent / "shared"))
DOC = r"\d{3}_[0-9a-f]{16}\.txt"


def _cited() -> set[str]:
    cited = set()
    for path in ("clinical/catalogue/catalogue.yaml", "followup/advice.yaml"):
        cited |= set(re.findall(rf"doc: ({DOC})", (ROOT / path).read_text()))
    return cited


def _described() -> dict[str, str]:
    """Return {doc: title cell} from the table of docs/sources.md."""
    rows = re.findall(rf"^\| `({DOC})` \| ([^|]+) \|", (ROOT / "docs/sources.md").read_text(), re.M)
    return {doc: title.strip() for doc, title in rows}


def test_every_cited_article_is_described_and_every_described_one_is_cited():
    assert _cited() == set(_described())
    assert len(_described()) == 4


def test_the_titles_are_the_articles_own_when_the_texts_are_at_hand():
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("the source texts are not available (set CLINIC_SHARED_DIR)")
    for doc, title in _described().items():
        if not title.startswith("*"):
            continue  # an untitled article, described in words
        words = re.sub(r"[^a-z ]", "", title.strip("*").lower().replace(":", " ")).split()
        text = re.sub(r"[^a-z ]", " ", (seeds / doc).read_text()[:600].lower())
        assert " ".join(words) in " ".join(text.split()), doc
