"""What the interface calls things: phases, ballot types, counting rules and their options, audit actions.

One place for every display label of a domain value, as lazy strings (evaluated in the reader's
language when shown), so that services, forms, views and the explanations all name a thing the same
way. :mod:`pb.tally` has no gettext, so its rules, utilities, completions and tie-breaks are named here.
Role names stay with the accounts (:data:`pb.services.accounts.ROLE_LABELS`).
"""

from __future__ import annotations

from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask_babel import lazy_gettext as _l

from pb.ballot import BallotType
from pb.models.cycle import Phase

PHASE_NAMES = {
    Phase.PROPOSALS: _l("Proposal submission"),
    Phase.REVIEW: _l("Deliberation and review"),
    Phase.VOTING: _l("Voting"),
    Phase.RESULTS: _l("Results"),
}

BALLOT_TYPE_NAMES = {
    BallotType.APPROVAL: _l("approval"),
    BallotType.K_APPROVAL: _l("k-approval"),
    BallotType.KNAPSACK: _l("knapsack"),
    BallotType.RANKED: _l("ranked"),
    BallotType.CUMULATIVE: _l("cumulative"),
}

# The counting rules of the pb.tally registry (pb.services.results.RULE_CHOICES), in plain words.
RULE_TITLES = {
    "greedy": _l("Most support first, while money remains"),
    "mes": _l("Equal Shares: each voter gets an equal share of the budget"),
    "phragmen": _l("Phragmén: voters earn money at the same rate"),
}

UTILITY_LABELS = {
    "cost": _l("Cost: a voter values a project at its cost"),
    "cardinality": _l("Count: a voter values each project on their ballot equally"),
    "score": _l("Score: points or rank positions"),
    "score-cost": _l("Score times cost"),
}

COMPLETION_LABELS = {
    "none": _l("None"),
    "greedy": _l("Spend what is left on the most supported projects that still fit"),
    "add1": _l("Spend the leftover money fairly: raise every voter’s equal share until the budget is used"),
    "add1-greedy": _l("Spend the leftover money fairly, then on the most supported projects that still fit"),
}

TIE_BREAK_LABELS = {
    "cost": _l(
        "Cheaper project first, then more supporters, then a draw by lot with the cycle’s public number"
    ),
    "id": _l("Project number order"),
    "refuse": _l("Do not break ties: counting stops and names the tied projects"),
}

# The actions the admin audit log records (an action not named here is shown as recorded).
ACTION_LABELS = {
    "cycle.create": _l("Created a cycle"),
    "cycle.update": _l("Changed a cycle's settings"),
    "cycle.close_phase": _l("Closed a phase early"),
    "role.grant": _l("Granted a role"),
    "role.revoke": _l("Removed a role"),
    "account.deactivate": _l("Deactivated an account"),
    "account.reactivate": _l("Reactivated an account"),
    "audit_log.rekeyed": _l("Re-signed the audit log"),
    "proposal.status_changed": _l("Changed a proposal's status"),
    "proposal.translated": _l("Translated a proposal"),
    "proposal.merged": _l("Merged a proposal into another"),
    "proposal.hide": _l("Hid a proposal"),
    "proposal.restore": _l("Restored a hidden proposal"),
    "proposal.keep": _l("Kept a reported proposal visible"),
    "comment.hide": _l("Hid a comment"),
    "comment.restore": _l("Restored a hidden comment"),
    "comment.keep": _l("Kept a reported comment visible"),
    "review.assigned": _l("Assigned a reviewer"),
    "review.unassigned": _l("Removed a reviewer"),
    "review.drafted": _l("Drafted a review"),
    "review.confirmed": _l("Confirmed a review"),
    "review.merge_suggested": _l("Suggested merging proposals"),
    "review.merge_declined": _l("Declined a suggested merge"),
    "project.create": _l("Created a ballot project"),
    "project.update": _l("Changed a ballot project"),
    "project.delete": _l("Removed a ballot project"),
    "project.drafted": _l("Drafted a ballot project"),
    "project.confirmed": _l("Confirmed a ballot project"),
    "result.drafted": _l("Counted the ballots (a draft result)"),
    "result.published": _l("Published a result"),
    "voter_codes.create_batch": _l("Generated a batch of voter codes"),
    "voter_codes.void_batch": _l("Voided a batch of voter codes"),
    "voter.confirm": _l("Confirmed a voter"),
    "voter.revoke": _l("Revoked a voter's confirmation"),
    "ballot.void": _l("Voided a misused ballot"),
}


def rule_title(name: str):
    """The plain-language name of a counting rule (its registry name when it has none)."""
    return RULE_TITLES.get(name, name)


def datetime_pattern(locale: str) -> str:
    """A Babel pattern for phase dates: the long date and the short time, e.g. "June 5, 2026, 5:00 a.m."."""
    combined = str(get_datetime_format("medium", locale=locale))
    date = get_date_format("long", locale=locale).pattern
    time = get_time_format("short", locale=locale).pattern
    return combined.replace("{1}", date).replace("{0}", time)
