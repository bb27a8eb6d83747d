"""Voter codes: alphabet and entropy, display and what people type, digests and keys."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb import voter_codes
from pb.voter_codes import (
    ALPHABET,
    ENTROPY_BITS,
    LOOK_ALIKES,
    PREFIX_BITS,
    derive_key,
    digest,
    display,
    generate,
    generate_many,
    normalize,
    prefix,
)
from tests.strategies import typed_codes
from tests.strategies import voter_codes as codes

MASTER = b"a master key of thirty-two bytes"
KEY = derive_key(MASTER, "voter codes")


# --- The alphabet and the codes drawn from it ---------------------------------------------------


def test_the_alphabet_has_no_look_alikes_and_no_repeats():
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set(ALPHABET) & set(LOOK_ALIKES)
    # every capital letter and digit that is not a look-alike is used: none is left to add
    assert set(ALPHABET) | set(LOOK_ALIKES) == set(string.ascii_uppercase + string.digits)


def test_a_code_carries_79_bits_and_its_prefix_gives_away_20():
    assert pytest.approx(16 * math.log2(31)) == ENTROPY_BITS
    assert 79 < ENTROPY_BITS < 80
    assert PREFIX_BITS < 20
    assert ENTROPY_BITS - PREFIX_BITS > 59


def test_generated_codes_are_16_characters_of_the_alphabet():
    assert len(generate()) == 16
    for code in generate_many(200):
        assert len(code) == 16
        assert set(code) <= set(ALPHABET)
        assert normalize(code) == code


def test_generated_codes_use_the_whole_alphabet_evenly():
    """10,000 codes are 160,000 characters: each of the 31 is expected ~5,161 times (sd ~71)."""
    batch = generate_many(10_000)
    counts = dict.fromkeys(ALPHABET, 0)
    for code in batch:
        for character in code:
            counts[character] += 1
    expected = 160_000 / 31
    assert all(abs(n - expected) < 8 * math.sqrt(expected) for n in counts.values()), counts
    # position by position too: the first characters (the stored prefix) are as random as the rest
    for position in range(16):
        column = [code[position] for code in batch]
        assert len(set(column)) == 31
        assert max(column.count(c) for c in ALPHABET) < 10_000 / 31 + 8 * math.sqrt(10_000 / 31)


def test_generate_many_gives_distinct_codes_in_the_number_asked():
    assert generate_many(0) == []
    batch = generate_many(5_000)
    assert len(batch) == len(set(batch)) == 5_000


def test_generate_many_stays_distinct_when_the_generator_repeats_itself(monkeypatch):
    drawn = iter(["A" * 16, "A" * 16, "B" * 16, "A" * 16, "C" * 16])
    monkeypatch.setattr(voter_codes, "generate", lambda: next(drawn))
    assert generate_many(3) == ["A" * 16, "B" * 16, "C" * 16]


@pytest.mark.parametrize("n", [-1, 1.5, "3", True, None])
def test_generate_many_refuses_a_count_that_is_not_a_natural_number(n):
    with pytest.raises(ValueError):
        generate_many(n)


# --- Display and normalize ----------------------------------------------------------------------


def test_display_groups_by_four():
    assert display("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"


@given(codes())
def test_display_then_normalize_is_the_code(code):
    shown = display(code)
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", shown)
    assert normalize(shown) == code
    assert display(shown) == shown  # display accepts what it printed


@given(typed_codes())
def test_whatever_a_person_puts_around_the_characters_normalizes_to_the_code(pair):
    code, typed = pair
    assert normalize(typed) == code


@pytest.mark.parametrize(
    "typed",
    [
        "abcd-efgh-jkmn-pqrs",
        "  ABCD EFGH JKMN PQRS\n",
        "ABCD\u2013EFGH\u2014JKMN\u2212PQRS",  # en dash, em dash, minus sign from a word processor
        "ABCD\u00a0EFGH\u202fJKMN\tPQRS",
        "\ufeffABCDEFGH\u200bJKMNPQRS",  # a byte-order mark and a zero-width space from a paste
        "A-B-C-D-E-F-G-H-J-K-M-N-P-Q-R-S",
    ],
)
def test_normalize_accepts_the_ways_people_type_a_code(typed):
    assert normalize(typed) == "ABCDEFGHJKMNPQRS"


@pytest.mark.parametrize("look_alike", list(LOOK_ALIKES + LOOK_ALIKES.lower()))
def test_look_alikes_are_refused_not_guessed(look_alike):
    assert normalize("ABCDEFGHJKMNPQR" + look_alike) is None
    assert normalize(look_alike + "BCD-EFGH-JKMN-PQRS") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ABCD-EFGH-JKMN-PQR",  # 15 characters
        "ABCD-EFGH-JKMN-PQRST",  # 17 characters
        "ABCDEFGHJKMNPQR\x00",
        "ABCDEFGHJKMNPQR\ud800",  # lone surrogates (what a lenient decoder can hand over)
        "ABCDEFGHJKMNPQR\udfff",
        "ABCDEFGHJKMNPQRÉ",
        "ABCDEFGHJKMNPQR\u017f",  # long s: str.upper() would make it an S
        "ABCDEFGHJKMNPQR\uff33",  # a full-width S
        "ABCDEFGHJKMNPQR_",
        "ABCD.EFGH.JKMN.PQRS",
        "A" * 100_000,
        "ABCD-EFGH-JKMN-PQRS" + " " * 100_000,
        "https://vote.example.org/?code=ABCDEFGHJKMNPQRS",
    ],
    ids=lambda text: repr(text[:24]) + (f"...({len(text)})" if len(text) > 24 else ""),
)
def test_normalize_refuses_what_cannot_be_a_code(text):
    assert normalize(text) is None


@pytest.mark.parametrize("value", [None, b"ABCDEFGHJKMNPQRS", 1234567890123456, ["ABCDEFGHJKMNPQRS"]])
def test_normalize_refuses_values_that_are_not_text(value):
    assert normalize(value) is None


@given(st.text(max_size=40))
def test_normalize_gives_a_code_or_none_and_is_idempotent(text):
    code = normalize(text)
    if code is not None:
        assert len(code) == 16 and set(code) <= set(ALPHABET)
        assert normalize(code) == code


@pytest.mark.parametrize("function", [display, prefix, lambda code: digest(KEY, code)])
@pytest.mark.parametrize("bad", ["", "ABCDEFGHJKMNPQRO", "ABCDEFGHJKMNPQR\x00", "A" * 100_000])
def test_functions_of_a_code_refuse_a_wrong_one_without_echoing_it(function, bad):
    with pytest.raises(ValueError) as caught:
        function(bad)
    assert "ABCDEFGH" not in str(caught.value) and "AAAA" not in str(caught.value)


# --- Digest, prefix and keys --------------------------------------------------------------------


def test_digest_is_hmac_sha256_of_the_normalized_code():
    """Pinned to an independent computation: stored digests must match after any refactoring."""
    key = bytes(range(32))
    expected = "119c9f812bdff8f0cd7835061769d3a3629193267071d1c0afbe61fb2d8b51e3"
    assert hmac.new(key, b"ABCDEFGHJKMNPQRS", hashlib.sha256).hexdigest() == expected
    assert digest(key, "ABCDEFGHJKMNPQRS") == expected
    assert digest(key, "abcd-efgh jkmn\u2013pqrs") == expected


@given(typed_codes())
def test_digest_and_prefix_do_not_depend_on_how_the_code_was_typed(pair):
    code, typed = pair
    assert digest(KEY, typed) == digest(KEY, code) == digest(KEY, display(code))
    assert re.fullmatch(r"[0-9a-f]{64}", digest(KEY, code))
    assert prefix(typed) == prefix(display(code)) == code[:4]


@given(codes(), codes())
def test_different_codes_have_different_digests(a, b):
    assert (digest(KEY, a) == digest(KEY, b)) == (a == b)


@given(codes())
def test_a_digest_under_one_key_is_useless_under_another(code):
    other_purpose = derive_key(MASTER, "registry")
    other_master = derive_key(b"another master key, 32 bytes long", "voter codes")
    assert len({digest(KEY, code), digest(other_purpose, code), digest(other_master, code)}) == 3


def test_derive_key_is_hmac_of_the_purpose_under_the_master():
    expected = hmac.new(MASTER, b"pb voter codes", hashlib.sha256).digest()
    assert len(KEY) == 32
    assert derive_key(MASTER, "voter codes") == expected
    assert derive_key(MASTER.decode(), "voter codes") == expected  # a str master is its UTF-8
    purposes = ["voter codes", "registry", "ballot nonces", "slots", "Voter codes", "voter codes "]
    assert len({derive_key(MASTER, p) for p in purposes}) == len(purposes)


@pytest.mark.parametrize(
    ("master", "purpose"),
    [(b"", "voter codes"), (b"short", "voter codes"), ("fifteen chars!!", "registry"), (MASTER, ""),
     (MASTER, "   "), (MASTER, b"voter codes"), (None, "registry"), (MASTER, "\ud800")],
)
def test_derive_key_refuses_weak_masters_and_missing_purposes(master, purpose):
    with pytest.raises(ValueError):
        derive_key(master, purpose)


@pytest.mark.parametrize("key", [b"", b"short key", "a text key that is long enough", None])
def test_digest_refuses_a_weak_key(key):
    with pytest.raises(ValueError):
        digest(key, "ABCDEFGHJKMNPQRS")
