"""The keyed hash chain: any change, insertion, removal or reordering is found; so is a wrong key."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb import hashchain
from pb.hashchain import GENESIS, Head, Link

KEY = b"k" * 32

json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=12)
payloads = st.dictionaries(
    st.sampled_from(["action", "actor", "before", "after", "at"]), json_scalars, min_size=1
)
chains = st.lists(payloads, min_size=1, max_size=8)


def build(payload_list, key=KEY, start=GENESIS) -> list[Link]:
    links, head = [], start
    for number, payload in enumerate(payload_list):
        new = hashchain.append(key, head, payload)
        links.append(Link(new.count, head.hash, payload, new.hash, ref=number))
        head = new
    return links


def head_of(links: list[Link]) -> Head:
    return Head(links[-1].position, links[-1].hash)


@given(chains)
def test_an_untouched_chain_verifies_up_to_its_head(payload_list):
    links = build(payload_list)
    result = hashchain.verify(KEY, links, expect=[head_of(links)])
    assert result.intact and result.head == head_of(links)


@given(chains, st.data())
def test_any_single_field_mutation_is_found(payload_list, data):
    links = build(payload_list)
    index = data.draw(st.integers(0, len(links) - 1))
    link = links[index]
    name = data.draw(st.sampled_from(sorted(link.payload)))
    value = data.draw(
        json_scalars.filter(lambda v: v != link.payload[name] or type(v) is not type(link.payload[name]))
    )
    links[index] = replace(link, payload={**link.payload, name: value})
    problem = hashchain.verify(KEY, links).problem
    assert problem is not None and problem.position == index + 1 and problem.kind == "content"


@given(chains, st.data())
def test_a_changed_hash_or_link_is_found(payload_list, data):
    links = build(payload_list)
    index = data.draw(st.integers(0, len(links) - 1))
    field = data.draw(st.sampled_from(["hash", "prev_hash"]))
    links[index] = replace(links[index], **{field: "f" * 64})
    problem = hashchain.verify(KEY, links, expect=[head_of(build(payload_list))]).problem
    assert problem is not None and problem.position <= index + 2


@given(chains, payloads, st.data())
def test_an_inserted_entry_is_found_even_with_a_recomputed_hash(payload_list, extra, data):
    """Whoever lacks the key can chain a new entry only with some other key."""
    links = build(payload_list)
    index = data.draw(st.integers(0, len(links)))
    head = GENESIS if index == 0 else head_of(links[:index])
    forged = hashchain.append(b"not the key", head, extra)
    rest = build([link.payload for link in links[index:]], key=b"not the key", start=forged)
    tampered = [*links[:index], Link(forged.count, head.hash, extra, forged.hash), *rest]
    problem = hashchain.verify(KEY, tampered).problem
    assert problem is not None and problem.position == index + 1


@given(chains, st.data())
def test_a_removed_entry_is_found(payload_list, data):
    links = build(payload_list)
    published = head_of(links)
    index = data.draw(st.integers(0, len(links) - 1))
    del links[index]
    problem = hashchain.verify(KEY, links, expect=[published]).problem
    assert problem is not None
    if index == len(payload_list) - 1:  # the tail: only the published head shows it
        assert problem.kind == "missing" and problem.position == index + 1


@given(st.lists(payloads, min_size=2, max_size=8), st.data())
def test_reordering_is_found(payload_list, data):
    links = build(payload_list)
    first = data.draw(st.integers(0, len(links) - 2))
    second = data.draw(st.integers(first + 1, len(links) - 1))
    links[first], links[second] = links[second], links[first]
    assert not hashchain.verify(KEY, links).intact


@given(chains, st.binary(min_size=1, max_size=40).filter(lambda key: key != KEY))
def test_a_wrong_key_is_found_at_the_first_entry(payload_list, key):
    problem = hashchain.verify(key, build(payload_list)).problem
    assert problem is not None and problem.position == 1 and problem.kind == "content"


def test_verification_resumes_from_a_checkpoint():
    links = build([{"n": number} for number in range(10)])
    checkpoint = head_of(links[:6])
    result = hashchain.verify(KEY, links[6:], start=checkpoint)
    assert result.intact and result.head == head_of(links)
    # A head before the checkpoint cannot be checked from there, and is not held against it.
    assert hashchain.verify(KEY, links[6:], start=checkpoint, expect=[head_of(links[:2])]).intact
    assert (
        hashchain.verify(KEY, links[6:], start=checkpoint, expect=[Head(6, "0" * 64)]).problem.kind == "head"
    )


def test_a_chain_may_grow_past_a_published_head_but_must_pass_through_it():
    links = build([{"n": number} for number in range(5)])
    assert hashchain.verify(KEY, links, expect=[head_of(links[:3])]).intact
    problem = hashchain.verify(KEY, links, expect=[Head(3, "a" * 64)]).problem
    assert problem.kind == "head" and problem.position == 3


@pytest.mark.parametrize("text", ["", "12", "x:" + "a" * 64, "3:" + "A" * 64, "3:abc", "-1:" + "a" * 64])
def test_a_head_is_count_colon_hash(text):
    with pytest.raises(ValueError):
        Head.parse(text)
    assert Head.parse(f" 7:{'b' * 64} ") == Head(7, "b" * 64)
    assert str(Head(7, "b" * 64)) == f"7:{'b' * 64}"


@given(payloads, st.integers(1, 10**9), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_hashing_stored_text_is_hashing_the_entry(payload, position, prev):
    """The message written out by entry_hash_of_text is the canonical JSON of position, prev and entry."""
    message = hashchain.canonical_json({"position": position, "prev": prev, "entry": payload})
    import hashlib
    import hmac

    expected = hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert hashchain.entry_hash(KEY, position, prev, payload) == expected
    text = hashchain.canonical_json(payload)
    assert hashchain.entry_hash_of_text(KEY, position, prev, text) == expected
