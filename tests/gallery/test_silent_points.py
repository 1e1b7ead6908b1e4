"""Every silent point of the facts has honest variants for its choices (silent_points.py).

The facts file's section "Where the sources are silent" is read bullet by
bullet: a bullet no entry of SILENT_POINTS names (a point added to the facts)
fails here, as does an entry naming a variant the gallery does not have. The
matrix (test_matrix.py) then proves the suite passes every one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leasecheck.gallery.silent_points import ALLOWED_ELSEWHERE, SILENT_POINTS
from leasecheck.gallery.variants import VARIANTS

from ..conftest import SHARED_REFERENCE

SECTION = "## Where the sources are silent"


def silent_bullets(text: str) -> list[str]:
    """The bullets of the facts' silent section, each joined onto one line."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    body = text[start : end if end != -1 else len(text)].split("\n", 1)[1]
    bullets: list[str] = []
    for line in body.splitlines():
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    return bullets


@pytest.fixture(scope="module")
def facts_text() -> str:
    path = SHARED_REFERENCE / "licensekit-floating-facts.md"
    if not path.is_file():
        pytest.skip(f"no shared copy of the facts at {path} (CI has one; a user's clone may not)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bullets(facts_text: str) -> list[str]:
    found = silent_bullets(facts_text)
    assert found, f"no bullets under {SECTION!r} in the facts"
    return found


def _names(point: str, bullet: str) -> bool:
    return re.sub(r"\s+", " ", point).lower() in re.sub(r"\s+", " ", bullet).lower()


def test_every_silent_point_of_the_facts_has_an_entry(bullets):
    unmapped = [b for b in bullets if not any(_names(p.facts, b) for p in SILENT_POINTS)]
    assert not unmapped, f"silent points without honest variants (add them to silent_points.py): {unmapped}"


def test_every_entry_names_one_bullet_of_the_facts(bullets):
    for point in SILENT_POINTS:
        assert sum(_names(point.facts, b) for b in bullets) == 1, point.facts


def test_every_point_has_at_least_two_choices_each_made_by_a_variant():
    for point in SILENT_POINTS:
        assert len(point.choices) >= 2, point.facts
        for choice, variants in point.choices.items():
            assert variants, f"{point.facts}: {choice!r} has no variant"
            unknown = [v for v in variants if v not in VARIANTS]
            assert not unknown, f"{point.facts}: {choice!r} names unknown variants {unknown}"


def test_every_variant_makes_some_choice():
    named = {v for p in SILENT_POINTS for vs in p.choices.values() for v in vs}
    assert set(VARIANTS) - named <= set(ALLOWED_ELSEWHERE), "a variant that maps to no silent point"


def test_every_choice_allowed_elsewhere_is_a_variant_and_in_the_facts(facts_text):
    assert set(ALLOWED_ELSEWHERE) <= set(VARIANTS)
    flat = re.sub(r"\s+", " ", facts_text).lower()
    for variant, words in ALLOWED_ELSEWHERE.items():
        assert words.lower() in flat, f"{variant}: {words!r} is not in the facts"


def test_the_bullets_are_read_whole(tmp_path: Path):
    text = f"# x\n{SECTION} (ours)\n- one\n  two\n- three\n\n## next\n- not this\n"
    assert silent_bullets(text) == ["one two", "three"]
