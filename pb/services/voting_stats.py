"""The integrity dashboard's numbers: aggregate signals about a vote that never say who voted how.

Everything here is a count over many voters: ballots per hour and channel (from
:class:`pb.models.VotingActivity`, which holds nothing finer), accounts created and e-mail addresses
confirmed per day, voter confirmations per staff member and basis, participation per district and
channel. No function returns a ballot, a code, a slot or a participation row.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pb.models import (
    Channel,
    Cycle,
    District,
    EligibilityBasis,
    Participation,
    User,
    VoterEligibility,
    VotingActivity,
)

# An hour is flagged as a burst when its ballots are above BURST_FACTOR times the median of the
# hours that had any ballot, and above BURST_MINIMUM (a quiet vote's few ballots are never a burst).
BURST_FACTOR = 3
BURST_MINIMUM = 20
# The per-day table covers at most this many days of the voting window (the last ones).
MAX_DAYS = 92


@dataclass(frozen=True)
class HourActivity:
    hour: datetime  # the start of the hour, UTC
    by_channel: dict[Channel, int]
    total: int
    burst: bool


@dataclass(frozen=True)
class Activity:
    hours: list[HourActivity]  # hours with at least one ballot, in order
    median: float  # of those hours' totals (0 when there are none)
    threshold: float  # an hour above this (and above BURST_MINIMUM) is a burst

    @property
    def bursts(self) -> int:
        return sum(1 for hour in self.hours if hour.burst)


def hourly_activity(session: Session, cycle: Cycle) -> Activity:
    """Ballots cast per hour and channel, the hours with none left out, unusual bursts flagged."""
    rows = session.execute(
        select(VotingActivity.hour, VotingActivity.channel, VotingActivity.ballots)
        .where(VotingActivity.cycle_id == cycle.id)
        .order_by(VotingActivity.hour, VotingActivity.channel)
    )
    by_hour: dict[datetime, dict[Channel, int]] = {}
    for hour, channel, ballots in rows:
        by_hour.setdefault(hour, {})[channel] = by_hour.get(hour, {}).get(channel, 0) + ballots
    totals = [sum(counts.values()) for counts in by_hour.values()]
    nonempty = [total for total in totals if total > 0]
    median = float(statistics.median(nonempty)) if nonempty else 0.0
    threshold = max(BURST_FACTOR * median, BURST_MINIMUM)
    hours = [
        HourActivity(hour, counts, total, total > threshold)
        for (hour, counts), total in zip(by_hour.items(), totals, strict=True)
        if total > 0
    ]
    return Activity(hours, median, threshold)


@dataclass(frozen=True)
class DayAccounts:
    day: date  # in the cycle's time zone
    created: int
    confirmed: int  # e-mail addresses confirmed that day


def voting_days(cycle: Cycle, now: datetime) -> list[date]:
    """The days of the voting window up to today (in the cycle's time zone), the last MAX_DAYS at most."""
    zone = ZoneInfo(cycle.timezone)
    first = cycle.voting_start_at.astimezone(zone).date()
    last = min(now, cycle.voting_end_at).astimezone(zone).date()
    if last < first:
        return []
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def accounts_per_day(session: Session, cycle: Cycle, now: datetime) -> list[DayAccounts]:
    """Accounts created and e-mail addresses confirmed each day of the voting window (one query)."""
    days = voting_days(cycle, now)
    if not days:
        return []
    zone = ZoneInfo(cycle.timezone)
    bounds = [datetime.combine(day, time(), tzinfo=zone) for day in [*days, days[-1] + timedelta(days=1)]]
    columns = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        columns.append(func.count(User.id).filter(User.created_at >= start, User.created_at < end))
        columns.append(
            func.count(User.id).filter(User.email_confirmed_at >= start, User.email_confirmed_at < end)
        )
    row = session.execute(select(*columns)).one()
    return [DayAccounts(day, row[2 * n], row[2 * n + 1]) for n, day in enumerate(days)]


@dataclass(frozen=True)
class StaffConfirmations:
    name: str  # the staff member's display name ("" when the account was deleted)
    email: str
    basis: EligibilityBasis
    confirmed: int
    revoked: int


def confirmations_by_staff(session: Session, cycle: Cycle) -> list[StaffConfirmations]:
    """How many voters each staff member confirmed on each basis (and how many of those were revoked)."""
    rows = session.execute(
        select(
            User.display_name,
            User.email,
            VoterEligibility.basis,
            func.count(VoterEligibility.id),
            func.count(VoterEligibility.revoked_at),
        )
        .select_from(VoterEligibility)
        .outerjoin(User, User.id == VoterEligibility.confirmed_by_id)
        .where(VoterEligibility.cycle_id == cycle.id)
        .group_by(User.id, User.display_name, User.email, VoterEligibility.basis)
        .order_by(func.count(VoterEligibility.id).desc(), User.email, VoterEligibility.basis)
    )
    return [
        StaffConfirmations(name or "", email or "", EligibilityBasis(basis), confirmed, revoked)
        for name, email, basis, confirmed, revoked in rows
    ]


@dataclass(frozen=True)
class DistrictParticipation:
    district: District | None  # None: voters without a district
    by_channel: dict[Channel, int]

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


def participation_counts(session: Session, cycle: Cycle) -> list[DistrictParticipation]:
    """How many voters took part, per district (the cycle's order) and channel: counts only."""
    rows = session.execute(
        select(Participation.district_id, Participation.channel, func.count())
        .where(Participation.cycle_id == cycle.id)
        .group_by(Participation.district_id, Participation.channel)
    )
    counts: dict[int | None, dict[Channel, int]] = {}
    for district_id, channel, count in rows:
        counts.setdefault(district_id, {})[Channel(channel)] = count
    found = [DistrictParticipation(d, counts.get(d.id, {})) for d in cycle.districts]
    if None in counts or not cycle.districts:
        found.append(DistrictParticipation(None, counts.get(None, {})))
    return found
