"""The integrity dashboard's aggregates: counts per hour, day, staff member, district and channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pb.models import Channel, EligibilityBasis, VotingActivity
from pb.services import eligibility, voting, voting_stats
from pb.services.ballot_rules import RawChoices
from tests.factories import create_account, make_voting_cycle


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"], display_name="Sam Staff")


@pytest.fixture
def setup(session, staff, now):
    return make_voting_cycle(session, staff, now=now, ballot_type="approval")


def confirm(session, actor, cycle, email, when, basis=EligibilityBasis.IN_PERSON, district=0):
    user = create_account(session, email)
    eligibility.confirm_voter(
        session, actor, cycle, user, basis=basis, district_id=cycle.districts[district].id if district is not None else None,
        note="Checked", birth_date=None, citizen=True, now=when,
    )
    session.commit()
    return user


def add_hours(session, cycle, start: datetime, counts: list[int], channel=Channel.ONLINE) -> None:
    for offset, ballots in enumerate(counts):
        session.add(VotingActivity(cycle_id=cycle.id, hour=start + timedelta(hours=offset), channel=channel, ballots=ballots))
    session.commit()


def test_hours_list_channels_and_flag_bursts_above_three_times_the_median_and_twenty(session, setup):
    cycle, _, during = setup
    start = during.replace(minute=0, second=0, microsecond=0)
    add_hours(session, cycle, start, [10, 12, 0, 11, 90, 12, 11])
    add_hours(session, cycle, start, [1, 0], channel=Channel.PAPER)
    activity = voting_stats.hourly_activity(session, cycle)
    assert [h.total for h in activity.hours] == [11, 12, 11, 90, 12, 11]  # the empty hour left out
    assert activity.median == 11.5 and activity.threshold == 34.5
    assert [h.burst for h in activity.hours] == [False, False, False, True, False, False]
    assert activity.hours[0].by_channel == {Channel.ONLINE: 10, Channel.PAPER: 1}
    assert activity.bursts == 1


def test_a_quiet_vote_has_no_burst_below_twenty_ballots(session, setup):
    cycle, _, during = setup
    add_hours(session, cycle, during.replace(minute=0, second=0, microsecond=0), [1, 1, 1, 19])
    activity = voting_stats.hourly_activity(session, cycle)
    assert activity.threshold == voting_stats.BURST_MINIMUM and activity.bursts == 0


def test_a_cast_ballot_shows_in_its_hour(session, setup, staff):
    cycle, projects, during = setup
    user = confirm(session, staff, cycle, "ana@example.org", during)
    voter = eligibility.account_voter(session, cycle, user)
    voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[0].id),)), voting.new_nonce(), during)
    session.commit()
    [hour] = voting_stats.hourly_activity(session, cycle).hours
    assert hour.hour == during.replace(minute=0, second=0, microsecond=0) and hour.total == 1


def test_accounts_created_and_confirmed_per_day_of_the_voting_window(session, setup, staff):
    cycle, _, during = setup
    days = voting_stats.voting_days(cycle, during)
    assert days[0] == cycle.voting_start_at.astimezone(ZoneInfo(cycle.timezone)).date()
    assert len(days) in (2, 3)  # one day into voting, in Toronto's time zone
    user = create_account(session, "new@example.org", confirmed=False)
    user.created_at = during
    user.email_confirmed_at = during + timedelta(minutes=5)
    other = create_account(session, "old@example.org")
    other.created_at = cycle.voting_start_at - timedelta(days=3)  # before the window: not counted
    other.email_confirmed_at = cycle.voting_start_at - timedelta(days=3)
    session.commit()
    rows = voting_stats.accounts_per_day(session, cycle, during)
    assert [r.day for r in rows] == days
    assert sum(r.created for r in rows) == 1 and sum(r.confirmed for r in rows) == 1
    assert voting_stats.accounts_per_day(session, cycle, cycle.voting_start_at - timedelta(days=1)) == []


def test_confirmations_per_staff_member_and_basis(session, setup, staff, make_user):
    cycle, _, during = setup
    other = make_user("other@example.org", roles=["staff"], display_name="Olu Staff")
    confirm(session, staff, cycle, "a@example.org", during)
    confirm(session, staff, cycle, "b@example.org", during)
    revoked = confirm(session, staff, cycle, "c@example.org", during, basis=EligibilityBasis.PARTNER)
    confirm(session, other, cycle, "d@example.org", during, basis=EligibilityBasis.REGISTRY)
    row = next(r for r in eligibility.list_voters(session, cycle) if r.user_id == revoked.id)
    eligibility.revoke_voter(session, staff, row, "Moved", during)
    session.commit()
    found = {(r.name, r.basis): (r.confirmed, r.revoked) for r in voting_stats.confirmations_by_staff(session, cycle)}
    assert found == {
        ("Sam Staff", EligibilityBasis.IN_PERSON): (2, 0),
        ("Sam Staff", EligibilityBasis.PARTNER): (1, 1),
        ("Olu Staff", EligibilityBasis.REGISTRY): (1, 0),
    }


def test_participation_per_district_and_channel_counts_only(session, setup, staff):
    cycle, projects, during = setup
    for n, district in enumerate([0, 0, 1]):
        user = confirm(session, staff, cycle, f"v{n}@example.org", during, district=district)
        voter = eligibility.account_voter(session, cycle, user)
        voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[2].id),)), voting.new_nonce(), during)
        session.commit()
    rows = voting_stats.participation_counts(session, cycle)
    assert [(r.district.name_en, r.by_channel, r.total) for r in rows] == [
        ("North", {Channel.ONLINE: 2}, 2),
        ("South", {Channel.ONLINE: 1}, 1),
    ]


def test_nothing_yet_gives_empty_aggregates(session, setup):
    cycle, _, during = setup
    assert voting_stats.hourly_activity(session, cycle).hours == []
    assert voting_stats.confirmations_by_staff(session, cycle) == []
    assert all(r.total == 0 for r in voting_stats.participation_counts(session, cycle))
    assert all(r.created == 0 for r in voting_stats.accounts_per_day(session, cycle, during))
