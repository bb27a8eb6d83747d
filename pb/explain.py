"""A cycle's ballot, counting rule and tie-break in plain words, for residents.

Shared by every blueprint that shows them (the cycle pages now, the results pages later).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from pb.i18n import money
from pb.i18n import number as format_number
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


# --- Results: each round, and why a project was not funded --------------------------------------


def round_sentence(
    number: int,
    project: str,
    supporters: int,
    cost_cents: int,
    left_cents: int,
    currency: str,
    *,
    score: str | None = None,
    completion: bool = False,
) -> str:
    """"Round 3: Youth drop-in centre, 1,234 supporters, $40,000, funded; $85,000 left."

    ``score`` (already formatted) is given when the rule ranks projects by points or ranks.
    """
    values = {
        "round": number,
        "project": project,
        "count": format_number(supporters),
        "cost": money(cost_cents, currency),
        "left": money(left_cents, currency),
        "score": score,
    }
    if completion and score is not None:
        return ngettext(
            "Round %(round)d (completion): %(project)s, score %(score)s, %(count)s supporter, %(cost)s, "
            "funded; %(left)s left.",
            "Round %(round)d (completion): %(project)s, score %(score)s, %(count)s supporters, %(cost)s, "
            "funded; %(left)s left.",
            supporters,
            **values,
        )
    if completion:
        return ngettext(
            "Round %(round)d (completion): %(project)s, %(count)s supporter, %(cost)s, funded; %(left)s left.",
            "Round %(round)d (completion): %(project)s, %(count)s supporters, %(cost)s, funded; %(left)s left.",
            supporters,
            **values,
        )
    if score is not None:
        return ngettext(
            "Round %(round)d: %(project)s, score %(score)s, %(count)s supporter, %(cost)s, funded; %(left)s left.",
            "Round %(round)d: %(project)s, score %(score)s, %(count)s supporters, %(cost)s, funded; %(left)s left.",
            supporters,
            **values,
        )
    return ngettext(
        "Round %(round)d: %(project)s, %(count)s supporter, %(cost)s, funded; %(left)s left.",
        "Round %(round)d: %(project)s, %(count)s supporters, %(cost)s, funded; %(left)s left.",
        supporters,
        **values,
    )


def tie_sentence(projects: list[str]) -> str:
    return _("It was tied with %(projects)s; the tie-break chose it.", projects=", ".join(projects))


def not_funded_reason(reason: str | None, left_cents: int | None, currency: str) -> str:
    """Why a project was not funded, for residents (``reason`` is a pb.tally PassReason value)."""
    if reason == "did_not_fit":
        if left_cents is not None:
            return _(
                "It did not fit in what was left of the budget (%(left)s).", left=money(left_cents, currency)
            )
        return _("It did not fit in what was left of the budget.")
    if reason == "below_threshold":
        return _("Its support was below the minimum the rule requires.")
    if reason == "not_affordable":
        return _(
            "Its supporters’ shares were spent on projects they preferred; what they had left could not pay for it."
        )
    if reason == "stopped":
        return _("The count stopped before its turn: this rule stops at the first project that does not fit.")
    if reason == "no_support":
        return _("Nobody supported it.")
    return _("It was not selected.")


def effective_support_sentence(percent: str, funded: bool) -> str:
    """Method of Equal Shares: how much of its cost a project's supporters could pay together."""
    if funded:
        return _("Its supporters could pay %(percent)s of its cost from their shares.", percent=percent)
    return _(
        "Its supporters could pay only %(percent)s of its cost from what was left of their shares.", percent=percent
    )


def share_sentences(
    completion: str, first_share_cents: int, share_cents: int, completion_cents: int, funded: int, currency: str
) -> list[str]:
    """Method of Equal Shares: each voter's share, and what the completion did to it."""
    lines = [_("Each voter started with an equal share of the budget: %(share)s.", share=money(first_share_cents, currency))]
    if completion.startswith("add1") and share_cents != first_share_cents:
        lines.append(
            _(
                "To use more of the budget, every voter’s share was raised, one dollar at a time, to %(share)s.",
                share=money(share_cents, currency),
            )
        )
    elif completion.startswith("add1"):
        lines.append(_("Raising every voter’s share would not have funded more projects, so it stayed the same."))
    if completion.endswith("greedy"):
        lines.append(
            ngettext(
                "The money left after that funded %(num)d more project, by number of supporters, for %(cost)s.",
                "The money left after that funded %(num)d more projects, by number of supporters, for %(cost)s.",
                funded,
                cost=money(completion_cents, currency),
            )
        )
    return lines
