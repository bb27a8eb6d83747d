"""Payment certificates for the Method of Equal Shares, and an independent check of them.

A certificate says, for every project MES funded (not the completion phase), how much each
voter of each ballot group paid. :func:`verify_certificate` re-derives the groups from the
election's votes and checks, in exact arithmetic, that

* every voter starts with the same share, and no voter pays more than that share in total;
* only voters who have the project on their ballot pay for it, and nobody pays a negative amount;
* every funded project is paid in full: the payments add up exactly to its cost;
* the projects in the certificate are the outcome's MES-phase projects, and the outcome's total
  cost is within the budget.

It deliberately shares no code with :mod:`pb.tally.rules.mes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from pb.tally.election import Amount, Ballot, Election


@dataclass(frozen=True, slots=True)
class GroupPayment:
    group: int  # index into PaymentCertificate.groups
    amount: Amount  # paid by each voter of the group


@dataclass(frozen=True, slots=True)
class ProjectPayments:
    project_id: str
    cost: Amount
    payments: tuple[GroupPayment, ...]  # only groups that paid something


@dataclass(frozen=True, slots=True)
class PaymentCertificate:
    share: Amount  # each voter's share of the budget (after Add1, the raised share)
    groups: tuple[tuple[Ballot, int], ...]  # distinct ballots and how many voters cast each
    projects: tuple[ProjectPayments, ...]  # in order of selection

    def paid_by_group(self) -> list[Amount]:
        """Total paid by one voter of each group."""
        total: list[Amount] = [0] * len(self.groups)
        for pp in self.projects:
            for gp in pp.payments:
                total[gp.group] += gp.amount
        return total


def verify_certificate(election: Election, outcome) -> list[str]:
    """Problems with ``outcome.certificate`` (an empty list means it is valid)."""
    cert = outcome.certificate
    if not isinstance(cert, PaymentCertificate):
        return ["the outcome carries no payment certificate"]
    problems: list[str] = []
    counts: dict[Ballot, int] = {}
    for vote in election.votes:
        counts[vote.ballot] = counts.get(vote.ballot, 0) + 1
    seen: set[Ballot] = set()
    for ballot, mult in cert.groups:
        if ballot in seen:
            problems.append(f"ballot group listed twice: {ballot!r}")
        seen.add(ballot)
        if counts.get(ballot, 0) != mult:
            problems.append(f"group of {mult} voters, but {counts.get(ballot, 0)} voters cast {ballot!r}")
    if sum(counts.values()) != sum(m for _, m in cert.groups):
        problems.append("the groups do not cover every voter")
    share = Fraction(cert.share)
    fair = Fraction(election.budget) / election.voter_count if election.voter_count else Fraction(0)
    if share < fair:
        problems.append(f"share {share} below the budget divided by the voters ({fair})")
    costs = {p.id: p.cost for p in election.projects}
    paid = [Fraction(0)] * len(cert.groups)
    for pp in cert.projects:
        if pp.project_id not in costs:
            problems.append(f"unknown project {pp.project_id}")
            continue
        if pp.cost != costs[pp.project_id]:
            problems.append(
                f"project {pp.project_id}: cost {pp.cost} but the election says {costs[pp.project_id]}"
            )
        total = Fraction(0)
        for gp in pp.payments:
            if not 0 <= gp.group < len(cert.groups):
                problems.append(f"project {pp.project_id}: no group {gp.group}")
                continue
            ballot, mult = cert.groups[gp.group]
            if gp.amount < 0:
                problems.append(f"project {pp.project_id}: group {gp.group} pays a negative amount")
            if gp.amount != 0 and pp.project_id not in ballot.project_ids():
                problems.append(f"project {pp.project_id}: group {gp.group} pays but does not support it")
            total += mult * Fraction(gp.amount)
            paid[gp.group] += Fraction(gp.amount)
        if total != costs[pp.project_id]:
            problems.append(f"project {pp.project_id}: paid {total} in total, cost {costs[pp.project_id]}")
    for g, amount in enumerate(paid):
        if amount > share:
            problems.append(f"group {g}: each voter paid {amount}, more than the share {share}")
    from pb.tally.outcome import Phase

    main = [r.project_id for r in outcome.rounds if r.phase is Phase.MAIN]
    certified = [pp.project_id for pp in cert.projects]
    if sorted(certified) != sorted(main):
        problems.append(f"certificate covers {sorted(certified)} but MES funded {sorted(main)}")
    if sum(costs.get(pid, 0) for pid in outcome.selected) > election.budget:
        problems.append("the outcome costs more than the budget")
    return problems
