"""A cycle's ballot, counting rule and tie-break in plain words, for residents.

Shared by every blueprint that shows them (the cycle pages now, the results pages later).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from pb.i18n import money
from pb.labels import rule_title
from pb.models import BallotType, Cycle


def ballot_explanation(cycle: Cycle) -> list[str]:
    """Sentences saying how a voter fills in the ballot, and whether they may change it."""
    lines: list[str] = []
    low, high = cycle.min_projects, cycle.max_projects
    kind = cycle.ballot_type
    if kind is BallotType.APPROVAL:
        lines.append(_("Choose every project you support."))
    elif kind is BallotType.K_APPROVAL:
        lines.append(
            ngettext(
                "Choose up to %(num)d project you support.",
                "Choose up to %(num)d projects you support.",
                high or 0,
            )
        )
        high = None
    elif kind is BallotType.KNAPSACK:
        if cycle.has_district_budgets:
            lines.append(
                _("Choose the projects you support; their total cost must fit in your district’s budget.")
            )
        else:
            lines.append(
                _(
                    "Choose the projects you support; their total cost must fit in the budget of %(budget)s.",
                    budget=money(cycle.total_budget_cents, cycle.currency),
                )
            )
        if cycle.min_budget_share_percent:
            lines.append(
                _(
                    "Your choices must use at least %(percent)d%% of the budget.",
                    percent=cycle.min_budget_share_percent,
                )
            )
    elif kind is BallotType.RANKED:
        lines.append(
            ngettext(
                "Rank up to %(num)d project, your favourite first.",
                "Rank up to %(num)d projects, your favourite first.",
                cycle.ranking_length or 0,
            )
        )
    elif kind is BallotType.CUMULATIVE:
        lines.append(
            _("Spread %(points)d points over the projects you support.", points=cycle.points_per_voter or 0)
        )
        if cycle.max_points_per_project:
            lines.append(
                _(
                    "You may give at most %(points)d points to one project.",
                    points=cycle.max_points_per_project,
                )
            )
    if low and high:
        lines.append(_("Choose at least %(low)d and at most %(high)d projects.", low=low, high=high))
    elif low:
        lines.append(ngettext("Choose at least %(num)d project.", "Choose at least %(num)d projects.", low))
    elif high:
        lines.append(ngettext("Choose at most %(num)d project.", "Choose at most %(num)d projects.", high))
    if cycle.allow_revision:
        lines.append(_("You may change your ballot until voting closes; only your last ballot counts."))
    else:
        lines.append(_("Once you cast your ballot, you cannot change it."))
    return lines


# What "most support" means depends on how the greedy rule measures a project's value.
GREEDY_EXPLANATIONS = {
    "cost": lambda: _(
        "Most support first, while money remains: projects are funded in order of support, most supported first, as long as they fit "
        "in what is left of the budget."
    ),
    "cardinality": lambda: _(
        "Most support first, while money remains: projects are funded in order of supporters per dollar of cost, highest first, as long as "
        "they fit in what is left of the budget."
    ),
    "score": lambda: _(
        "Most support first, while money remains: projects are funded in order of their score (points or ranking positions) per dollar of "
        "cost, highest first, as long as they fit in what is left of the budget."
    ),
    "score-cost": lambda: _(
        "Most support first, while money remains: projects are funded in order of their total score (points or ranking positions), highest "
        "first, as long as they fit in what is left of the budget."
    ),
}


def rule_explanation(cycle: Cycle) -> str:
    if cycle.tally_rule == "greedy":
        return GREEDY_EXPLANATIONS.get(cycle.tally_utility, GREEDY_EXPLANATIONS["cost"])()
    if cycle.tally_rule == "mes":
        return _(
            "Equal Shares: each voter gets an equal share of the budget, and a project is funded "
            "when its supporters can pay for it together from their shares. This gives groups of voters "
            "projects in proportion to their size."
        )
    if cycle.tally_rule == "phragmen":
        return _(
            "Phragmén: voters earn money at the same rate, and a project is funded as soon as its "
            "supporters together have earned its cost, which spreads the funded projects fairly."
        )
    return str(rule_title(cycle.tally_rule))


def tie_break_explanation(cycle: Cycle) -> str:
    if cycle.tie_break == "cost":
        return _(
            "When two projects are tied, the cheaper one goes first, then the one with more supporters; a "
            "remaining tie is settled by lot, using the cycle’s public number %(seed)d, drawn when the cycle "
            "was created, so anyone can repeat the draw.",
            seed=cycle.tie_break_seed,
        )
    if cycle.tie_break == "id":
        return _("When two projects are tied, the one with the smaller project number goes first.")
    return _(
        "Ties are not broken by the count: if two projects are tied, the count stops and names them, and the "
        "tie is settled as the local rules require."
    )
