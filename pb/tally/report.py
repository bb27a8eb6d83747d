"""An outcome for people and for machines: JSON, sentences, the file's own rule and result.

Shared by ``pb tally``, the web app and the election record, so that all of them say the
same thing. Standard library only, like the rest of :mod:`pb.tally`.

* :func:`outcome_json`: the outcome as a JSON-ready dict, exact numbers as strings.
* :func:`explanation`: the outcome round by round, in sentences.
* :func:`rule_from_meta`: the :func:`~pb.tally.tally` arguments for the rule a pabulib file's
  META ``rule`` names.
* :func:`compare_with_official`: the outcome against the file's ``selected`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from importlib import metadata
from typing import Any

from pb.tally.election import Amount, BallotKind, Election, RankedBallot, exact, format_amount
from pb.tally.outcome import Outcome, PassedOver, PassReason, Phase, Round
from pb.tally.rules.registry import RULES

__all__ = [
    "OfficialComparison",
    "compare_with_official",
    "currency_of",
    "explanation",
    "official_selection",
    "outcome_json",
    "pb_version",
    "percent",
    "plural",
    "project_name",
    "reason_text",
    "rule_from_meta",
    "show",
]


def pb_version() -> str:
    """The installed version of pb, or ``"unknown"`` when it runs from a source tree."""
    try:
        return metadata.version("pb")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- numbers and words for people ----------------------------------------------------------


def show(value: Amount | None, currency: str | None = None) -> str:
    """An amount for a reader: thousands grouped, decimals exact when they end, else ≈ to 2 places.

    With ``currency`` the amount is money: ``"1,200 PLN"``.
    """
    if value is None:
        return "-"
    if isinstance(value, int):
        text = f"{value:,}"
    else:
        exact_text = format_amount(value)
        if "/" in exact_text:  # a repeating decimal: round half up to 2 places
            hundredths = (abs(value) * 100 + Fraction(1, 2)).__floor__()
            sign = "-" if value < 0 else ""
            text = f"≈{sign}{hundredths // 100:,}.{hundredths % 100:02d}"
        else:
            whole, _, decimals = exact_text.partition(".")
            text = f"{'-' if whole.startswith('-') else ''}{abs(int(whole)):,}.{decimals}"
    return f"{text} {currency}" if currency else text


def percent(part: Amount, whole: Amount) -> str:
    if not whole:
        return "-"
    tenths = (Fraction(part) * 1000 / whole + Fraction(1, 2)).__floor__()
    return f"{tenths // 10}.{tenths % 10}%"


def plural(count: Amount, singular: str, plural_form: str | None = None) -> str:
    """``"1 supporter"``, ``"2 supporters"``, ``"1,234 voters"``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{show(count)} {word}"


def currency_of(election: Election) -> str | None:
    """META ``currency`` when it looks like one (a short code or sign, such as PLN or €), else ``None``."""
    text = (election.meta_value("currency") or "").strip()
    if 0 < len(text) <= 8 and text.isprintable() and " " not in text and text != "None":
        return text
    return None


REASONS = {
    PassReason.DID_NOT_FIT: "did not fit in what was left",
    PassReason.BELOW_THRESHOLD: "score below the threshold",
    PassReason.NOT_AFFORDABLE: "its supporters could not pay for it",
    PassReason.STOPPED: "counting stopped before its turn",
    PassReason.NO_SUPPORT: "nobody supported it",
}


def reason_text(passed: PassedOver | None, currency: str | None = None) -> str:
    """Why a project was not funded, in words."""
    if passed is None:
        return "not selected"
    text = REASONS.get(passed.reason, str(passed.reason))
    if passed.reason is PassReason.DID_NOT_FIT and passed.budget_left is not None:
        text += f" ({show(passed.budget_left, currency)} left)"
    return text


def project_name(election: Election, project_id: str, width: int | None = None) -> str:
    """The project's name on one line, cut to ``width`` characters with an ellipsis."""
    project = election.project_by_id.get(project_id)
    name = " ".join((project.name if project else "").split())
    if width is not None and len(name) > width:
        name = name[: width - 1] + "…"
    return name


def _label(election: Election, project_id: str) -> str:
    name = project_name(election, project_id)
    return f"{project_id} “{name}”" if name else project_id


def _round_sentence(
    election: Election, outcome: Outcome, r: Round, spent: Amount, currency: str | None
) -> str:
    phase = "In the completion, " if r.phase is Phase.COMPLETION else ""
    score = "" if r.score == r.supporters else f", total score {show(r.score)}"
    text = (
        f"Round {r.number}: {phase}{_label(election, r.project_id)} was funded for {show(r.cost, currency)}; "
        f"{plural(r.supporters, 'voter')} supported it{score}."
    )
    if r.price_per_voter is not None:
        payers = f"its {plural(r.payers, 'payer')}" if r.payers is not None else "its supporters"
        if outcome.utility == "cost":
            most = f"{show(r.price_per_voter * r.cost, currency)} each"
        elif outcome.utility == "cardinality":
            most = f"{show(r.price_per_voter, currency)} each"
        else:
            most = f"{show(r.price_per_voter, currency)} per point of score"
        text += f" Equal shares: {payers} paid at most {most}"
        if r.voter_share is not None:
            text += f", each voter's share being {show(r.voter_share, currency)}"
        text += "."
    if r.load is not None:
        text += f" Phragmén: bought when every voter had earned {show(r.load, currency)}."
    if r.tied_with:
        text += f" It tied with {', '.join(r.tied_with)}; the tie-break ({outcome.tie_break.describe()}) chose it."
    text += f" Spent so far {show(spent, currency)}, {show(outcome.budget - spent, currency)} left."
    return text


def explanation(election: Election, outcome: Outcome, currency: str | None = None) -> list[str]:
    """The outcome in sentences: the rule, each round, each project passed over, the rule's notes."""
    lines = []
    if outcome.rule in RULES:
        lines.append(RULES[outcome.rule].description)
    spent: Amount = 0
    for r in outcome.rounds:
        spent += r.cost
        lines.append(_round_sentence(election, outcome, r, spent, currency))
    if not outcome.rounds:
        lines.append("No project was funded.")
    for p in outcome.passed_over:
        lines.append(
            f"{_label(election, p.project_id)} ({show(p.cost, currency)}, {plural(p.supporters, 'supporter')}) "
            f"was not funded: {reason_text(p, currency)}."
        )
    lines.extend(outcome.notes)
    return lines


# --- JSON -------------------------------------------------------------------------------------


def _exact(value: Amount | None) -> str | None:
    return None if value is None else format_amount(value)


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Fraction):
        return format_amount(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)


def _round_json(election: Election, r: Round) -> dict[str, Any]:
    return {
        "number": r.number,
        "project_id": r.project_id,
        "name": project_name(election, r.project_id),
        "phase": str(r.phase),
        "cost": _exact(r.cost),
        "supporters": r.supporters,
        "score": _exact(r.score),
        "price_per_voter": _exact(r.price_per_voter),
        "payers": r.payers,
        "voter_share": _exact(r.voter_share),
        "load": _exact(r.load),
        "tied_with": list(r.tied_with),
    }


def outcome_json(
    election: Election,
    outcome: Outcome,
    *,
    scores: tuple[int, ...] | None = None,
    official: OfficialComparison | None = None,
) -> dict[str, Any]:
    """The election's size and the outcome as a JSON-ready dict; exact numbers are strings.

    ``scores`` is the score vector the count used for ranked ballots (``None``: Borda);
    ``official`` the comparison with the file's own result, if it has one.
    """
    document: dict[str, Any] = {
        "pb_version": pb_version(),
        "kind": str(election.kind),
        "voters": len(election.votes),
        "projects": len(election.projects),
        "currency": currency_of(election),
        "rule": outcome.rule,
        "utility": outcome.utility,
        "completion": outcome.completion,
        "scores": None
        if election.kind is not BallotKind.RANKED
        else "borda"
        if scores is None
        else list(scores),
        "tie_break": {
            "method": str(outcome.tie_break.method),
            "seed": outcome.tie_break.seed,
            "description": outcome.tie_break.describe(),
        },
        "options": {key: _plain(value) for key, value in outcome.options},
        "budget": format_amount(outcome.budget),
        "total_cost": format_amount(outcome.total_cost),
        "left": format_amount(outcome.budget - outcome.total_cost),
        "exhaustive": outcome.exhaustive,
        "selected": list(outcome.selected),
        "rounds": [_round_json(election, r) for r in outcome.rounds],
        "passed_over": [
            {
                "project_id": p.project_id,
                "reason": str(p.reason),
                "cost": _exact(p.cost),
                "supporters": p.supporters,
                "score": _exact(p.score),
                "budget_left": _exact(p.budget_left),
            }
            for p in outcome.passed_over
        ],
        "notes": list(outcome.notes),
    }
    if official is not None:
        document["official"] = official.as_json()
    return document


# --- the file's own rule and result ---------------------------------------------------------

# META rule values of pabulib files that pb can reproduce (and which the 40 reference files use):
# every greedy variant and Equal Shares with Add1 (equalshares.net). Others are refused by name.
GREEDY_RULES = {"greedy": True, "greedy-threshold": True, "greedy-no-skip": False}
UNSUPPORTED_RULES = {
    "unknown": "the file does not say how it was counted",
    "greedy-custom": "a city-specific greedy variant (see the file's META comment)",
    "equalshares/add1-comparison": "Equal Shares with a comparison step against greedy that pb does not run",
}


def rule_from_meta(election: Election) -> dict[str, Any]:
    """The :func:`~pb.tally.tally` arguments (``rule`` included) for the rule META ``rule`` names.

    * ``greedy``, ``greedy-threshold``, ``greedy-no-skip``: greedy (no-skip for the last), funding
      approval ballots by number of supporters (``cost`` utility) and points or ranked ballots
      by total score (``score-cost``). Ranked ballots are scored ``n, n-1, ..., 1`` by position,
      ``n`` being META ``max_length`` (else the longest ranking): Kraków's 3-2-1. When META has
      ``min_project_score_threshold``, projects with a lower score (supporters, points) are passed over.
    * ``equalshares``: the Method of Equal Shares with the cost utility; ``equalshares/add1``
      with the Add1 completion (equalshares.net).

    Every file of the reference set whose rule is listed here and which records its winners
    (16 of them: Warszawa, Łódź, Kraków, Katowice, Wrocław, Gdynia, Częstochowa, Świecie, Assen)
    is reproduced exactly. Raises ``ValueError`` naming the rule otherwise.
    """
    text = (election.meta_value("rule") or "").strip()
    shown = repr(text if len(text) <= 40 else text[:39] + "…")
    if not text or text == "None":
        raise ValueError("the file's META has no rule; choose one with --rule")
    if text in UNSUPPORTED_RULES:
        raise ValueError(
            f"the file's META rule {shown} is not one pb can reproduce ({UNSUPPORTED_RULES[text]})"
        )
    if text in ("equalshares", "equalshares/add1"):
        return {"rule": "mes", "utility": "cost", "completion": "add1" if text.endswith("add1") else "none"}
    if text not in GREEDY_RULES:
        raise ValueError(f"the file's META rule {shown} is not one pb knows")
    kwargs: dict[str, Any] = {
        "rule": "greedy",
        "utility": "cost" if election.kind is BallotKind.APPROVAL else "score-cost",
        "skip": GREEDY_RULES[text],
    }
    if election.kind is BallotKind.RANKED:
        longest = election.meta_value("max_length")
        try:
            n = int(longest.strip()) if longest and longest.strip() not in ("", "None") else None
        except ValueError:
            n = None
        if n is None:
            n = max((len(b.ranking) for b, _ in election.profile if isinstance(b, RankedBallot)), default=0)
        kwargs["scores"] = tuple(range(n, 0, -1))
    threshold = election.meta_value("min_project_score_threshold")
    if threshold is not None and threshold.strip() not in ("", "None"):
        try:
            kwargs["threshold"] = exact(threshold)
        except ValueError:
            raise ValueError("META min_project_score_threshold is not a number") from None
    elif text == "greedy-threshold":
        raise ValueError(
            "the file's META rule is greedy-threshold but META has no min_project_score_threshold"
        )
    return kwargs


def official_selection(election: Election) -> frozenset[str] | None:
    """The projects the file's ``selected`` column marks as funded (``1``), or ``None`` without one.

    ``0``, empty and ``None`` mean not funded; any other value raises ``ValueError``.
    """
    if not any(name == "selected" for p in election.projects for name, _ in p.extra):
        return None
    chosen = set()
    for project in election.projects:
        value = dict(project.extra).get("selected", "").strip()
        if value == "1":
            chosen.add(project.id)
        elif value not in ("0", "", "None"):
            shown = repr(value if len(value) <= 20 else value[:19] + "…")
            raise ValueError(f"project {project.id[:40]!r}: selected column is {shown}, expected 0 or 1")
    return frozenset(chosen)


@dataclass(frozen=True)
class OfficialComparison:
    """The outcome against the file's official result (its ``selected`` column)."""

    official: tuple[str, ...]  # in file order
    only_here: tuple[str, ...]  # funded by this count, not officially (in order of selection)
    only_official: tuple[str, ...]  # funded officially, not by this count (in file order)

    @property
    def matches(self) -> bool:
        return not self.only_here and not self.only_official

    def as_json(self) -> dict[str, Any]:
        return {
            "matches": self.matches,
            "selected": list(self.official),
            "only_here": list(self.only_here),
            "only_official": list(self.only_official),
        }

    def sentences(self, election: Election, currency: str | None = None) -> list[str]:
        funded = plural(len(self.official), "project")
        if self.matches:
            return [f"Official result (the file's selected column): matches, the same {funded}."]
        lines = [f"Official result (the file's selected column, {funded}): DIFFERS."]
        cost = election.project_by_id
        for pid in self.only_here:
            lines.append(
                f"  funded here, not officially: {_label(election, pid)} ({show(cost[pid].cost, currency)})"
            )
        for pid in self.only_official:
            lines.append(
                f"  funded officially, not here: {_label(election, pid)} ({show(cost[pid].cost, currency)})"
            )
        return lines


def compare_with_official(election: Election, outcome: Outcome) -> OfficialComparison | None:
    """How ``outcome`` differs from the file's ``selected`` column; ``None`` if the file has none."""
    official = official_selection(election)
    if official is None:
        return None
    here = set(outcome.selected)
    return OfficialComparison(
        official=tuple(p.id for p in election.projects if p.id in official),
        only_here=tuple(pid for pid in outcome.selected if pid not in official),
        only_official=tuple(p.id for p in election.projects if p.id in official and p.id not in here),
    )
