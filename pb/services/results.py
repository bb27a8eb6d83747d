"""The one bridge between pb's database rows and :mod:`pb.tally` (no other web or service module imports it).

It lists the counting rules on offer (with the utilities, completions and tie-breaks each takes),
turns a cycle's :class:`~pb.ballot.BallotConfig` into the tally's ballot limits and rule, and
voters' :class:`~pb.ballot.Choices` into the tally's ballots and election.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pb import permissions
from pb.ballot import BallotConfig, BallotType, Choices
from pb.ballot_tally import TallyRule as TallyRule  # re-exported with the other conversions
from pb.ballot_tally import ballot_kind, tally_ballot, tally_limits, tally_rule
from pb.hashchain import canonical_json
from pb.models import Ballot as BallotRow
from pb.models import (
    BallotLogHead,
    BallotProject,
    BallotStatus,
    Category,
    Channel,
    Cycle,
    District,
    Result,
    ResultStatus,
    User,
)
from pb.services import voting_stats
from pb.services.audit import record_change
from pb.services.errors import DomainError
from pb.services.transitions import frozen_ballot_config
from pb.tally import (
    RULES,
    Ballot,
    BallotKind,
    Election,
    Outcome,
    Project,
    TieBreak,
    TieBreakMethod,
    UnresolvedTie,
    Vote,
    tally,
)
from pb.tally.report import outcome_json, pb_version

# The tie-breaks on offer, the default first.
TIE_BREAKS: tuple[str, ...] = (
    TieBreakMethod.COST.value,
    *(method.value for method in TieBreakMethod if method is not TieBreakMethod.COST),
)

@dataclass(frozen=True)
class RuleChoice:
    """A counting rule of the registry, with what it can be combined with."""

    name: str
    ballot_kinds: frozenset[BallotKind]
    utilities: tuple[str, ...]
    completions: tuple[str, ...]

    def counts(self, ballot_type: BallotType) -> bool:
        """Whether the rule counts ballots of this type."""
        return ballot_kind(ballot_type) in self.ballot_kinds


RULE_CHOICES: dict[str, RuleChoice] = {
    name: RuleChoice(
        name=info.name,
        ballot_kinds=frozenset(info.ballot_kinds),
        utilities=tuple(info.utilities),
        completions=tuple(info.completions),
    )
    for name, info in RULES.items()
}


def all_utilities() -> list[str]:
    """Every utility some rule takes, in registry order."""
    return list(dict.fromkeys(name for rule in RULE_CHOICES.values() for name in rule.utilities))


def all_completions() -> list[str]:
    """Every completion some rule takes, ``none`` first."""
    return list(
        dict.fromkeys(["none", *(name for rule in RULE_CHOICES.values() for name in rule.completions)])
    )


def tally_election(
    config: BallotConfig, budget_cents: int, costs: Mapping[int, int], ballots: Iterable[Choices]
) -> Election:
    """The election to count: the projects (id -> cost in cents), the budget, and one vote for each
    ballot, numbered in order (ballots carry no voter), with the cycle's ballot kind and limits.

    Every ballot must be of the cycle's type and name only projects of ``costs``.
    """
    projects = tuple(Project(str(pid), cost) for pid, cost in sorted(costs.items()))
    votes = []
    kind = BallotType(config.ballot_type)
    checked: dict[Choices, Ballot] = {}  # equal choices are checked and converted once
    for number, choices in enumerate(ballots, start=1):
        ballot = checked.get(choices)
        if ballot is None:
            if choices.ballot_type is not kind:
                raise ValueError(f"ballot {number} is {choices.ballot_type.value}, not {config.ballot_type}")
            if not set(choices.projects) <= costs.keys():
                raise ValueError(f"ballot {number} names a project that is not counted")
            ballot = checked[choices] = tally_ballot(choices)
        votes.append(Vote(str(number), ballot))
    return Election(
        budget_cents,
        projects,
        tuple(votes),
        ballot_kind(config.ballot_type),
        tally_limits(config, budget_cents),
    )


@dataclass(frozen=True)
class CountedElection:
    """One count of a cycle: the whole city's (``district_id`` None) or one district budget's."""

    district_id: int | None
    election: Election
    outcome: Outcome


def tally_cycle(session: Session, cycle: Cycle) -> list[CountedElection]:
    """Count a cycle's counted ballots with the configuration frozen when its voting opened.

    A cycle with one budget is one election: every confirmed project, every counted ballot. A cycle whose
    budget is divided between districts is one election per district: the projects its voters could
    choose (the district's and the city-wide ones), its budget and its voters' counted ballots.
    """
    config = frozen_ballot_config(session, cycle)
    if config is None:
        raise ValueError(f"voting has not opened in cycle {cycle.slug}: there is nothing to count")
    rule = tally_rule(config)
    projects = session.execute(
        select(BallotProject.id, BallotProject.cost_cents, BallotProject.district_id).where(
            BallotProject.cycle_id == cycle.id, BallotProject.confirmed_at.is_not(None)
        )
    ).all()
    ballots: dict[int | None, list[Choices]] = {}
    rows = session.execute(
        select(BallotRow.district_id, BallotRow.choices).where(
            BallotRow.cycle_id == cycle.id, BallotRow.status == BallotStatus.COUNTED
        )
    )
    divided = cycle.has_district_budgets
    read: dict[str, Choices] = {}  # many voters make the same choices: each text is read once
    for district_id, text in rows:
        choices = read.get(text)
        if choices is None:
            choices = read[text] = Choices.from_json(text)
        ballots.setdefault(district_id if divided else None, []).append(choices)
    if not divided:
        budgets: dict[int | None, int] = {None: cycle.total_budget_cents}
    else:
        budgets = {district.id: district.budget_cents or 0 for district in cycle.districts}
    counts = []
    for district_id, budget in budgets.items():
        costs = {pid: cost for pid, cost, where in projects if not divided or where in (None, district_id)}
        election = tally_election(config, budget, costs, ballots.get(district_id, ()))
        counts.append(CountedElection(district_id, election, rule.count(election)))
    return counts


# --- Drafting and publishing a result ------------------------------------------------------------


def _require_counter(actor: User) -> None:
    if not permissions.can_manage_voters(actor):
        raise DomainError(_l("Only staff can count and publish results."))


def _require_sealed(session: Session, cycle: Cycle, now: datetime) -> BallotLogHead:
    from pb.services.voting import seal_ballot_log

    if not cycle.voting_is_over(now):
        raise DomainError(_l("Voting is not over yet: the count starts once it has closed."))
    seal_ballot_log(session, cycle, now)  # when no worker ran since the end
    head = session.get(BallotLogHead, cycle.id)
    if head is None or head.closed_at is None:
        raise DomainError(_l("This cycle has no ballot log to count."))
    return head


def count_outcome_json(session: Session, cycle: Cycle) -> str:
    """The counts of ``cycle`` as the canonical JSON a result keeps (and the election record publishes)."""
    slugs = {d.id: d.slug for d in cycle.districts}
    counts = []
    for count in tally_cycle(session, cycle):
        counts.append(
            {
                "district": slugs.get(count.district_id) if count.district_id is not None else None,
                "budget_cents": int(count.election.budget),
                "outcome": outcome_json(count.election, count.outcome),
            }
        )
    return canonical_json({"counts": counts}).decode()


def draft_result(
    session: Session, actor: User, cycle: Cycle, now: datetime, *, corrects: Result | None = None, reason: str = ""
) -> Result:
    """Count the sealed ballots now, as a draft only staff see (an earlier draft is discarded).

    A count after publication is a correction: it names the published result and needs a public reason.
    """
    _require_counter(actor)
    head = _require_sealed(session, cycle, now)
    published = current_result(session, cycle)
    reason = (reason or "").strip()
    if published is not None and corrects is None:
        raise DomainError(
            _l("The result is published and cannot be undone; a new count is a correction with a public reason.")
        )
    if corrects is not None:
        if published is None or corrects.id != published.id:
            raise DomainError(_l("Only the published result can be corrected."))
        if not reason:
            raise DomainError(_l("Give the public reason for the correction."), field="reason")
    config = frozen_ballot_config(session, cycle)
    for old in session.scalars(
        select(Result).where(Result.cycle_id == cycle.id, Result.status == ResultStatus.DRAFT)
    ):
        old.status = ResultStatus.DISCARDED
    result = Result(
        cycle_id=cycle.id,
        status=ResultStatus.DRAFT,
        ballot_config=config.to_json(),
        log_head=f"{head.count}:{head.hash}",
        counted=head.counted,
        outcome=count_outcome_json(session, cycle),
        software_version=pb_version(),
        created_by_id=actor.id,
        created_at=now,
        corrects_id=corrects.id if corrects is not None else None,
        correction_reason=reason,
    )
    session.add(result)
    session.flush()
    record_change(
        session, actor, "result.drafted", "cycle", cycle.id, None,
        {"result": result.id, "log_head": result.log_head, "corrects": result.corrects_id}, now=now,
    )
    return result


def publish_result(session: Session, actor: User, result: Result, now: datetime) -> Result:
    """Publish a draft, for good (recorded in the admin audit log); a correction replaces the one it corrects."""
    _require_counter(actor)
    if result.status is not ResultStatus.DRAFT:
        raise DomainError(_l("Only a draft result can be published."))
    published = current_result(session, result.cycle)
    if published is not None and result.corrects_id != published.id:
        raise DomainError(_l("Another result was published meanwhile; count again as a correction of it."))
    result.status = ResultStatus.PUBLISHED
    result.published_by_id, result.published_at = actor.id, now
    session.flush()
    record_change(
        session, actor, "result.published", "cycle", result.cycle_id, None,
        {"result": result.id, "log_head": result.log_head, "corrects": result.corrects_id,
         "reason": result.correction_reason or None},
        now=now,
    )
    return result


def current_result(session: Session, cycle: Cycle) -> Result | None:
    """The published result that stands: the latest published (a correction supersedes what it corrects)."""
    return session.scalar(
        select(Result)
        .where(Result.cycle_id == cycle.id, Result.status == ResultStatus.PUBLISHED)
        .order_by(Result.published_at.desc(), Result.id.desc())
        .limit(1)
    )


def pending_draft(session: Session, cycle: Cycle) -> Result | None:
    """The draft waiting for staff (never shown publicly)."""
    return session.scalar(
        select(Result).where(Result.cycle_id == cycle.id, Result.status == ResultStatus.DRAFT).limit(1)
    )


def published_results(session: Session, cycle: Cycle) -> list[Result]:
    """Every published result of the cycle, newest first (corrections and what they corrected)."""
    return list(
        session.scalars(
            select(Result)
            .where(Result.cycle_id == cycle.id, Result.status == ResultStatus.PUBLISHED)
            .order_by(Result.published_at.desc(), Result.id.desc())
        )
    )


def standing_result_ids(session: Session, cycle_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each cycle's standing published result id (as :func:`current_result` picks it), by cycle id: one
    narrow query, for all cycles or those of ``cycle_ids``."""
    query = (
        select(Result.cycle_id, Result.id)
        .where(Result.status == ResultStatus.PUBLISHED)
        .order_by(Result.cycle_id, Result.published_at, Result.id)
    )
    if cycle_ids is not None:
        query = query.where(Result.cycle_id.in_(list(cycle_ids)))
    return {cycle_id: result_id for cycle_id, result_id in session.execute(query)}  # the latest wins


# --- Reading a result: what the results pages show -----------------------------------------------
# Everything here reads a stored result (the canonical JSON of its counts) and, for what the stored
# outcome does not carry (the Method of Equal Shares' payments, the comparison with greedy), counts
# the sealed ballots again. A result never changes, so that second count is kept per process.


@dataclass(frozen=True)
class MoneyFlow:
    """What the supporters of one project paid, together, for one funded project (in cents)."""

    project: BallotProject
    cents: Fraction


@dataclass(frozen=True)
class EqualSharesDetail:
    """Method of Equal Shares, for one project: how close its supporters came to paying for it."""

    effective_support: Fraction  # percent of its cost its supporters could pay (100 when funded by MES)
    money_went: tuple[MoneyFlow, ...]  # where its supporters' shares went, largest first
    unspent_cents: Fraction  # what its supporters still held at the end


@dataclass(frozen=True)
class ProjectOutcome:
    project: BallotProject
    cost_cents: int
    supporters: int
    score: Fraction
    funded: bool
    round: int | None = None
    completion: bool = False  # funded in the completion phase
    reason: str | None = None  # a pb.tally.PassReason value when not funded
    budget_left_cents: Fraction | None = None  # what was left when it was passed over
    tied_with: tuple[BallotProject, ...] = ()
    equal_shares: EqualSharesDetail | None = None


@dataclass(frozen=True)
class CategoryFunding:
    category: Category | None
    funded_cents: int
    funded: int  # projects funded


@dataclass(frozen=True)
class EqualSharesSummary:
    """What the completion of the Method of Equal Shares did to each voter's share."""

    completion: str
    first_share_cents: Fraction  # the budget divided by the voters
    share_cents: Fraction  # after Add1, the raised share
    completion_projects: tuple[BallotProject, ...]
    completion_cents: int


@dataclass(frozen=True)
class CountReport:
    """One count: the whole city's (``district`` None) or one district budget's."""

    district: District | None
    budget_cents: int
    spent_cents: int
    voters: int
    funded: tuple[ProjectOutcome, ...]  # in the order of the rounds
    projects: tuple[ProjectOutcome, ...]  # funded ones first, then by support
    categories: tuple[CategoryFunding, ...]
    equal_shares: EqualSharesSummary | None = None

    @property
    def left_cents(self) -> int:
        return self.budget_cents - self.spent_cents

    @property
    def most_votes(self) -> Fraction:
        return max((p.score for p in self.projects), default=Fraction(0))

    @property
    def most_funding(self) -> int:
        return max((c.funded_cents for c in self.categories), default=0)


@dataclass(frozen=True)
class FairnessRow:
    """For one budget: voters with a funded project they supported, and the money spent, for each rule."""

    district: District | None
    voters: int
    budget_cents: int
    satisfied: int  # the published outcome
    spent_cents: int
    greedy_satisfied: int | None  # greedy by number of supporters; None if it could not count (a tie)
    greedy_spent_cents: int | None

    @staticmethod
    def share(part: int | None, whole: int) -> Fraction | None:
        return None if part is None or not whole else Fraction(part * 100, whole)


@dataclass(frozen=True)
class Fairness:
    rows: tuple[FairnessRow, ...]
    total: FairnessRow


@dataclass(frozen=True)
class ParticipationRow:
    district: District | None
    online: int
    paper: int

    @property
    def total(self) -> int:
        return self.online + self.paper


@dataclass(frozen=True)
class ResultReport:
    result: Result
    rule: str
    utility: str
    completion: str
    counts: tuple[CountReport, ...]
    fairness: Fairness | None
    recounted: bool  # the count was repeated and agrees with the stored outcome (MES details, fairness)

    @property
    def score_based(self) -> bool:
        """Whether projects are ranked by a score (points, ranks) rather than by their number of supporters."""
        return self.utility in ("score", "score-cost")


@dataclass(frozen=True)
class _Analysis:
    """What a second count of the sealed ballots tells beyond the stored outcome, per budget."""

    selected: dict[int | None, tuple[str, ...]]
    satisfied: dict[int | None, int]
    voters: dict[int | None, int]
    greedy: dict[int | None, tuple[int, int] | None]  # (voters satisfied, spent) by greedy
    equal_shares: dict[int | None, tuple[dict[str, tuple[Fraction, dict[str, Fraction], Fraction]], Fraction]]


_ANALYSES: OrderedDict[tuple, _Analysis] = OrderedDict()
_ANALYSES_KEPT = 8
_ANALYSES_LOCK = threading.Lock()


def _satisfied(election: Election, selected: Iterable[str]) -> int:
    chosen = frozenset(selected)
    groups = Counter(vote.ballot for vote in election.votes)
    return sum(mult for ballot, mult in groups.items() if ballot.project_ids() & chosen)


def _equal_shares_detail(outcome: Outcome) -> tuple[dict[str, tuple[Fraction, dict[str, Fraction], Fraction]], Fraction]:
    """Per project id: (effective support in percent, what its supporters paid per funded project, what
    they kept), from the payment certificate; and the share each voter started the main phase with."""
    cert = outcome.certificate
    share = Fraction(cert.share)
    paid = cert.paid_by_group()
    left = [share - Fraction(amount) for amount in paid]
    main = {pp.project_id for pp in cert.projects}
    payments: dict[int, dict[str, Fraction]] = {}
    for pp in cert.projects:
        for gp in pp.payments:
            payments.setdefault(gp.group, {})[pp.project_id] = Fraction(gp.amount)
    costs = {r.project_id: r.cost for r in outcome.rounds} | {p.project_id: p.cost for p in outcome.passed_over}
    supporters: dict[str, list[int]] = {}
    for index, (ballot, _mult) in enumerate(cert.groups):
        for pid in ballot.project_ids():
            supporters.setdefault(pid, []).append(index)
    details = {}
    for pid, cost in costs.items():
        groups = supporters.get(pid, [])
        could = sum((cert.groups[g][1] * left[g] for g in groups), Fraction(0))
        if pid in main or not cost:
            effective = Fraction(100)
        else:
            effective = min(Fraction(100), could * 100 / Fraction(cost))
        went: dict[str, Fraction] = {}
        for g in groups:
            mult = cert.groups[g][1]
            for funded, amount in payments.get(g, {}).items():
                if amount:
                    went[funded] = went.get(funded, Fraction(0)) + mult * amount
        details[pid] = (effective, went, could)
    return details, share


def _analyse(session: Session, cycle: Cycle, result: Result) -> _Analysis:
    key = (cycle.id, result.id, result.log_head, result.created_at, result.outcome)
    with _ANALYSES_LOCK:
        found = _ANALYSES.get(key)
        if found is not None:
            _ANALYSES.move_to_end(key)
            return found
    config = BallotConfig.from_json(result.ballot_config)
    tie_break = TieBreak.parse(config.tie_break, config.tie_break_seed)
    selected, satisfied, voters, greedy, equal_shares = {}, {}, {}, {}, {}
    for count in tally_cycle(session, cycle):
        where = count.district_id
        selected[where] = tuple(count.outcome.selected)
        satisfied[where] = _satisfied(count.election, count.outcome.selected)
        voters[where] = len(count.election.votes)
        try:
            compared = tally(count.election, "greedy", utility="cost", tie_break=tie_break)
        except UnresolvedTie:
            greedy[where] = None
        else:
            greedy[where] = (_satisfied(count.election, compared.selected), int(compared.total_cost))
        if count.outcome.rule == "mes" and count.outcome.certificate is not None:
            equal_shares[where] = _equal_shares_detail(count.outcome)
    analysis = _Analysis(selected, satisfied, voters, greedy, equal_shares)
    with _ANALYSES_LOCK:
        _ANALYSES[key] = analysis
        while len(_ANALYSES) > _ANALYSES_KEPT:
            _ANALYSES.popitem(last=False)
    return analysis


def _amount(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def result_report(session: Session, cycle: Cycle, result: Result) -> ResultReport:
    """Everything the results page shows about ``result``: per budget the funded projects, every project's
    support, cost and outcome (why not, when not funded), funding by category, the Method of Equal Shares'
    details, and the fairness comparison with greedy by number of supporters.

    Runs a constant number of queries (the projects with their categories, the districts, and the
    second count's, which is kept per process).
    """
    document = json.loads(result.outcome)
    rows = session.scalars(
        select(BallotProject)
        .where(BallotProject.cycle_id == cycle.id, BallotProject.confirmed_at.is_not(None))
        .options(selectinload(BallotProject.category), selectinload(BallotProject.district))
        .order_by(BallotProject.position, BallotProject.id)
    ).all()
    by_id = {str(row.id): row for row in rows}
    districts = {district.slug: district for district in cycle.districts}
    analysis = _analyse(session, cycle, result)
    counts = []
    recounted = True
    fairness_rows = []
    rule = utility = completion = ""
    for count in document["counts"]:
        district = districts.get(count["district"]) if count["district"] else None
        where = district.id if district is not None else None
        outcome = count["outcome"]
        rule, utility, completion = outcome["rule"], outcome["utility"], outcome["completion"]
        if analysis.selected.get(where) != tuple(outcome["selected"]):
            recounted = False
        mes = analysis.equal_shares.get(where) if recounted else None
        details = mes[0] if mes else {}
        lines: dict[str, ProjectOutcome] = {}
        for r in outcome["rounds"]:
            pid = r["project_id"]
            if pid not in by_id:
                continue
            lines[pid] = ProjectOutcome(
                project=by_id[pid],
                cost_cents=int(Fraction(r["cost"])),
                supporters=r["supporters"],
                score=Fraction(r["score"]),
                funded=True,
                round=r["number"],
                completion=r["phase"] == "completion",
                tied_with=tuple(by_id[t] for t in r["tied_with"] if t in by_id),
                equal_shares=_detail(details.get(pid), by_id),
            )
        for p in outcome["passed_over"]:
            pid = p["project_id"]
            if pid not in by_id or pid in lines:
                continue
            lines[pid] = ProjectOutcome(
                project=by_id[pid],
                cost_cents=int(Fraction(p["cost"])),
                supporters=p["supporters"],
                score=Fraction(p["score"]),
                funded=False,
                reason="no_support" if not p["supporters"] else p["reason"],
                budget_left_cents=_amount(p["budget_left"]),
                equal_shares=_detail(details.get(pid), by_id),
            )
        funded = tuple(sorted((line for line in lines.values() if line.funded), key=lambda line: line.round or 0))
        unfunded = sorted(
            (line for line in lines.values() if not line.funded),
            key=lambda line: (-line.score, -line.supporters, line.cost_cents, line.project.id),
        )
        spent = int(Fraction(outcome["total_cost"]))
        categories: dict[int | None, list] = {}
        for category in cycle.categories:
            categories[category.id] = [category, 0, 0]
        for line in funded:
            entry = categories.setdefault(line.project.category_id, [line.project.category, 0, 0])
            entry[1] += line.cost_cents
            entry[2] += 1
        summary = None
        if mes:
            voters = analysis.voters.get(where, 0)
            later = [line for line in funded if line.completion]
            summary = EqualSharesSummary(
                completion=completion,
                first_share_cents=Fraction(count["budget_cents"], voters) if voters else Fraction(0),
                share_cents=mes[1],
                completion_projects=tuple(line.project for line in later),
                completion_cents=sum(line.cost_cents for line in later),
            )
        counts.append(
            CountReport(
                district=district,
                budget_cents=count["budget_cents"],
                spent_cents=spent,
                voters=outcome["voters"],
                funded=funded,
                projects=funded + tuple(unfunded),
                categories=tuple(CategoryFunding(c, cents, n) for c, cents, n in categories.values()),
                equal_shares=summary,
            )
        )
        compared = analysis.greedy.get(where)
        fairness_rows.append(
            FairnessRow(
                district=district,
                voters=outcome["voters"],
                budget_cents=count["budget_cents"],
                satisfied=analysis.satisfied.get(where, 0),
                spent_cents=spent,
                greedy_satisfied=compared[0] if compared else None,
                greedy_spent_cents=compared[1] if compared else None,
            )
        )
    fairness = None
    if recounted and fairness_rows:
        complete = all(row.greedy_satisfied is not None for row in fairness_rows)
        total = FairnessRow(
            district=None,
            voters=sum(row.voters for row in fairness_rows),
            budget_cents=sum(row.budget_cents for row in fairness_rows),
            satisfied=sum(row.satisfied for row in fairness_rows),
            spent_cents=sum(row.spent_cents for row in fairness_rows),
            greedy_satisfied=sum(row.greedy_satisfied or 0 for row in fairness_rows) if complete else None,
            greedy_spent_cents=sum(row.greedy_spent_cents or 0 for row in fairness_rows) if complete else None,
        )
        fairness = Fairness(tuple(fairness_rows), total)
    return ResultReport(result, rule, utility, completion, tuple(counts), fairness, recounted)


def _detail(
    found: tuple[Fraction, dict[str, Fraction], Fraction] | None, by_id: Mapping[str, BallotProject]
) -> EqualSharesDetail | None:
    if found is None:
        return None
    effective, went, could = found
    flows = sorted(
        (MoneyFlow(by_id[pid], cents) for pid, cents in went.items() if pid in by_id),
        key=lambda flow: (-flow.cents, flow.project.id),
    )
    return EqualSharesDetail(effective, tuple(flows), could)


def participation_counts(session: Session, cycle: Cycle) -> list[ParticipationRow]:
    """How many voted, per district and channel (counts of participation rows only), in district order."""
    return [
        ParticipationRow(row.district, row.by_channel.get(Channel.ONLINE, 0), row.by_channel.get(Channel.PAPER, 0))
        for row in voting_stats.participation_counts(session, cycle)  # the one query, shared
        if row.district is not None or row.by_channel  # a row for voters without a district only if any
    ]


def get_published_result(session: Session, cycle: Cycle, result_id: int) -> Result | None:
    """A published result of ``cycle`` (the one standing, or one a correction replaced); never a draft."""
    return session.scalar(
        select(Result).where(
            Result.id == result_id, Result.cycle_id == cycle.id, Result.status == ResultStatus.PUBLISHED
        )
    )


def corrected_by(session: Session, result: Result) -> Result | None:
    """The published correction of ``result``, if there is one."""
    return session.scalar(
        select(Result).where(Result.corrects_id == result.id, Result.status == ResultStatus.PUBLISHED).limit(1)
    )
