"""Ballots the casting refuses, for every ballot type: unknown projects, another cycle's or district's,
the same project twice, negative or non-integer ranks and points, over the budget or over the limits. Each is
refused with a message that names what is wrong, writes nothing (no participation, ballot, nonce or log
entry; the code stays unused) and leaves the form's nonce good for the corrected ballot. So is a form loaded
while voting ran and sent one second after it closed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.hashchain import GENESIS
from pb.models import Ballot, BallotLogEntry, BallotNonce, Participation, VoterCode
from pb.services import eligibility, voting
from pb.services.ballot_rules import RawChoices
from pb.services.errors import DomainError
from tests.factories import make_voting_cycle

SELECTION = ("approval", "k_approval", "knapsack")
LIMITS = {
    "approval": {"max_projects": 2},
    "k_approval": {"max_projects": 2},
    "knapsack": {"min_budget_share_percent": 30},  # of the $100,000 budget
    "ranked": {"ranking_length": 2},
    "cumulative": {"points_per_voter": 10, "max_points_per_project": 6},
}
NOT_OFFERED = "does not offer that project"
# What a voter of the first district may choose (tests.factories.VOTING_PROJECTS): projects 0 ($40,000),
# 2 ($50,000, city-wide) and 3 ($20,000); project 1 is the other district's.


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


def raw(kind: str, entries: list[tuple[str, str]]) -> RawChoices:
    """The form's fields: (project id as sent, its rank or points; ignored on a checkbox ballot)."""
    if kind in SELECTION:
        return RawChoices(selected=tuple(key for key, _value in entries))
    pairs = dict(entries)
    return RawChoices(ranks=pairs) if kind == "ranked" else RawChoices(points=pairs)


def wrong_number(kind: str) -> str:
    if kind in SELECTION:
        return NOT_OFFERED  # a checkbox's value that is no project id names no project offered
    if kind == "ranked":
        return r"The rank of .* must be a whole number from 1 to 3\."
    return r"The points for .* must be a whole number, 0 or more\."


def cases(kind: str, mine: list, other_cycle: list) -> list[tuple[str, list[tuple[str, str]], str]]:
    """(what is wrong, the fields sent, the message expected) for a ballot of ``kind``."""
    first, elsewhere, city, small = (str(project.id) for project in mine)
    number_field = (lambda text: (text, "1")) if kind in SELECTION else (lambda text: (first, text))
    found = [
        ("unknown project", [("999999", "1")], NOT_OFFERED),
        ("another cycle's project", [(str(other_cycle[0].id), "1")], NOT_OFFERED),
        ("another district's project", [(elsewhere, "1")], NOT_OFFERED),
        ("a project twice", [(first, "1"), ("0" + first, "2")], "more than once"),
        ("a negative number", [number_field("-" + ("1" if kind not in SELECTION else first))], wrong_number(kind)),
        ("a number that is not whole", [number_field("1.5" if kind not in SELECTION else first + ".0")],
         wrong_number(kind)),
        ("junk", [number_field("1e3" if kind not in SELECTION else "x" + first)], wrong_number(kind)),
    ]
    if kind in ("approval", "k_approval"):
        found.append(("over the most projects", [(first, ""), (city, ""), (small, "")], "Choose at most 2 projects"))
    elif kind == "knapsack":
        found.append(("over the budget", [(first, ""), (city, ""), (small, "")], "more than the budget"))
        found.append(("under the least share", [(small, "")], "must cost at least"))
    elif kind == "ranked":
        found.append(("over the ranking length", [(first, "1"), (city, "2"), (small, "3")], "Rank at most 2"))
    else:
        found.append(("over the points", [(first, "6"), (city, "5")], "at most 10 points; you gave 11"))
        found.append(("over a project's points", [(first, "7")], "a project may have at most 6"))
    return found


def nothing_written(session, cycle) -> None:
    session.expire_all()
    for model in (Ballot, BallotLogEntry, BallotNonce):
        assert session.scalar(select(func.count()).select_from(model).where(model.cycle_id == cycle.id)) == 0, model
    assert session.scalar(select(func.count()).select_from(Participation)) == 0
    assert session.scalar(select(func.count()).select_from(VoterCode).where(VoterCode.used_on.is_not(None))) == 0
    state = voting.log_state(session, cycle)
    assert state.counted == 0 and state.head == GENESIS


@pytest.mark.parametrize("kind", list(LIMITS))
def test_a_wrong_ballot_is_refused_with_a_clear_message_and_writes_nothing(session, staff, now, kind):
    cycle, mine, during = make_voting_cycle(session, staff, now=now, ballot_type=kind, **LIMITS[kind])
    _other, theirs, _ = make_voting_cycle(session, staff, now=now, slug="other-cycle", ballot_type=kind, **LIMITS[kind])
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during)
    session.commit()
    voter = eligibility.code_voter(session, cycle, batch.codes[0])
    nonce = voting.new_nonce()  # one form, sent again and again as the voter corrects it
    for name, entries, expected in cases(kind, mine, theirs):
        with pytest.raises(DomainError) as refused:
            voting.cast_ballot(session, cycle, voter, raw(kind, entries), nonce, during)
        session.rollback()
        messages = refused.value.messages()
        assert any(re.search(expected, message) for message in messages), (name, messages)
        nothing_written(session, cycle)
    # The corrected ballot, sent with the same form, is cast.
    good = [(str(mine[0].id), "1"), (str(mine[2].id), "2" if kind == "ranked" else "4")]
    if kind == "k_approval":
        good = good[:1]
    cast = voting.cast_ballot(session, cycle, voter, raw(kind, good), nonce, during)
    session.commit()
    assert voting.check_receipt(session, cycle, cast.receipt).status is voting.ReceiptStatus.COUNTED


@pytest.mark.parametrize("closing", ["at the end date", "by staff"])
def test_a_form_loaded_before_close_and_sent_a_second_after_is_refused(session, staff, now, closing):
    cycle, projects, during = make_voting_cycle(session, staff, now=now, ballot_type="approval")
    batch = eligibility.create_code_batch(session, staff, cycle, 1, cycle.districts[0].id, "", during)
    session.commit()
    voter = eligibility.code_voter(session, cycle, batch.codes[0])
    nonce = voting.new_nonce()  # the ballot page, loaded while voting runs
    if closing == "by staff":
        voting.close_voting(session, staff, cycle, "Storm warning", during)
        session.commit()
        sent = during + timedelta(seconds=1)
    else:
        sent = cycle.voting_end_at + timedelta(seconds=1)
    with pytest.raises(DomainError, match="Voting is over"):
        voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[0].id),)), nonce, sent)
    session.rollback()
    session.expire_all()
    for model in (Ballot, BallotNonce, Participation):
        assert session.scalar(select(func.count()).select_from(model)) == 0, model
    state = voting.log_state(session, cycle)
    assert state.counted == 0
    # Closed by staff: the log holds its closing entry only; at the end date nothing has sealed it yet.
    assert state.head.count == (1 if closing == "by staff" else 0)
    assert voting.verify_log(session, cycle).intact
