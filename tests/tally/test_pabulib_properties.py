"""Properties of the pabulib reader and writer on generated elections."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pb.tally import pabulib
from pb.tally.election import BallotKind, Election, exact, format_amount
from tests.strategies import approval_elections, cumulative_elections, elections, ranked_elections


@given(elections(fractions=True, limits=True, extras=True))
def test_round_trip(election):
    assert pabulib.loads(pabulib.dumps(election)) == election


@given(st.one_of(approval_elections(), ranked_elections(), cumulative_elections()))
def test_round_trip_of_plain_elections(election):
    assert pabulib.loads(pabulib.dumps(election)) == election


@given(elections(fractions=True, extras=True))
def test_round_trip_without_meta_completes_meta(election):
    bare = Election(election.budget, election.projects, election.votes, election.kind, election.limits)
    assert pabulib.loads(pabulib.dumps(bare)) == pabulib.complete_meta(bare)
    assert pabulib.complete_meta(bare) == pabulib.complete_meta(pabulib.complete_meta(bare))


@given(elections(fractions=True, limits=True, extras=True))
def test_dumps_is_stable(election):
    text = pabulib.dumps(election)
    assert pabulib.dumps(pabulib.loads(text)) == text


@given(elections(fractions=True, limits=True, extras=True), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_line_ends_and_byte_order_mark_do_not_matter(election, newline, bom):
    text = pabulib.dumps(election)
    if '"' not in text:  # no quoted field, so every "\n" ends a row
        text = text.replace("\n", newline)
    assert pabulib.loads(("\ufeff" if bom else "") + text) == election


@given(elections(limits=True))
def test_every_generated_ballot_is_valid_and_counted(election):
    result = pabulib.parse(pabulib.dumps(election), lenient=True)
    assert result.skipped_count == 0
    assert len(result.election.votes) == len(election.votes)


@given(approval_elections(min_voters=1), st.data())
def test_an_unknown_project_is_reported_on_its_line(election, data):
    text = pabulib.dumps(election)
    head, votes = text.split("\nVOTES\n")  # no extra columns: one line per vote
    rows = votes.split("\n")
    index = data.draw(st.integers(0, len(election.votes) - 1))
    voter_id = rows[1 + index].split(";")[0]
    rows[1 + index] = f"{voter_id};no-such-project"
    # Line breaks as the reader counts them: \r\n, \r and \n (quoted names may hold any).
    head_lines = head.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    expected_line = head_lines + 2 + index + 1  # VOTES, header, then the votes
    result = pabulib.parse(head + "\nVOTES\n" + "\n".join(rows), lenient=True)
    assert result.skipped_count == 1
    assert result.skipped[0].line == expected_line
    assert (
        str(result.skipped[0]) == f"line {expected_line}: voter {voter_id}: unknown project 'no-such-project'"
    )


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=1000))
def test_format_amount_round_trips(value):
    assert exact(format_amount(value)) == value


@given(elections(kind=BallotKind.CUMULATIVE, fractions=True))
def test_profile_of_a_read_election_matches(election):
    loaded = pabulib.loads(pabulib.dumps(election))
    assert dict(loaded.profile) == dict(election.profile)
