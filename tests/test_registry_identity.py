"""The canonical identity the voter registry hashes: case, accents and separators do not matter."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.registry_identity import IdentityError, canonical_identity, name_key, postal_code_key
from tests.strategies import junk_text, postal_codes, written_names

BIRTH = date(1980, 5, 17)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Côté-Léger", "coteleger"),
        ("cote leger", "coteleger"),
        ("  COTE   LEGER ", "coteleger"),
        ("O'Neil", "oneil"),
        ("O’Neil", "oneil"),
        ("Bœuf", "boeuf"),
        ("Strauß", "strauss"),
        ("Łukasz", "lukasz"),
        ("Jean-François", "jeanfrancois"),
        ("ﬁlion", "filion"),  # a ligature from a PDF copy
    ],
)
def test_names_fold_case_accents_and_separators(written, key):
    assert name_key(written) == key


def test_the_issue_example_is_one_name():
    assert name_key("Côté-Léger") == name_key("cote leger")


@given(written_names())
def test_any_way_of_writing_a_name_gives_its_key(case):
    name, written = case
    assert name_key(written) == name


@given(written_names(), written_names(), postal_codes())
def test_one_person_written_two_ways_is_one_identity(last, first, postal):
    _, last_written = last
    _, first_written = first
    spaced = f" {postal[:3].lower()} {postal[3:]} "
    assert canonical_identity(last[0], first[0], BIRTH, postal) == canonical_identity(
        last_written, first_written, BIRTH, spaced
    )


@given(postal_codes())
def test_postal_codes_normalize(postal):
    for written in (postal, postal.lower(), f"{postal[:3]} {postal[3:]}", f"{postal[:3]}-{postal[3:].lower()}"):
        assert postal_code_key(written) == postal


@pytest.mark.parametrize("bad", ["", "H2X 1Y", "H2X1Y44", "D2X1Y4", "W2X1Y4", "H2O1Y4", "12345", "H2X\x001Y4", "Ｈ２Ｘ１Ｙ４x"])
def test_other_postal_codes_are_refused(bad):
    assert postal_code_key(bad) is None


def test_full_width_postal_codes_are_read():
    assert postal_code_key("ｈ２ｘ　１ｙ４") == "H2X1Y4"


def test_fields_cannot_run_into_each_other():
    assert canonical_identity("ab", "c", BIRTH, "H2X1Y4") != canonical_identity("a", "bc", BIRTH, "H2X1Y4")


def test_other_details_are_other_identities():
    base = canonical_identity("Tremblay", "Marie", BIRTH, "H2X1Y4")
    assert base != canonical_identity("Tremblai", "Marie", BIRTH, "H2X1Y4")  # typos are not guessed at
    assert base != canonical_identity("Tremblay", "Marie", date(1980, 5, 18), "H2X1Y4")
    assert base != canonical_identity("Tremblay", "Marie", BIRTH, "H2X1Y5")


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (("", "Marie", BIRTH, "H2X1Y4"), "last_name"),
        (("- '", "Marie", BIRTH, "H2X1Y4"), "last_name"),
        (("Tremblay", "x" * 201, BIRTH, "H2X1Y4"), "first_names"),
        (("Tremblay", "Marie", None, "H2X1Y4"), "birth_date"),
        (("Tremblay", "Marie", datetime(1980, 5, 17), "H2X1Y4"), "birth_date"),
        (("Tremblay", "Marie", BIRTH, "nowhere"), "postal_code"),
    ],
)
def test_a_bad_detail_is_named_not_echoed(details, field):
    with pytest.raises(IdentityError) as raised:
        canonical_identity(*details)
    assert raised.value.field == field
    assert "Tremblay" not in str(raised.value) and "Marie" not in str(raised.value)


@given(junk_text, junk_text, st.dates(), junk_text)
def test_junk_never_raises_anything_but_identity_errors(last, first, birth, postal):
    try:
        identity = canonical_identity(last, first, birth, postal)
    except IdentityError:
        return
    assert "\x00" not in identity


@given(st.text(st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_shortcut_gives_what_the_full_folding_gives(text):
    from pb.registry_identity import _unicode_name_key

    assert name_key(text) == _unicode_name_key(text)
