"""What a voter's submitted choices mean, and whether they break a rule of the cycle's ballot.

The ballot form sends strings: checkbox values (approval, k-approval and knapsack ballots), a rank
per project (ranked) or points per project (cumulative). :func:`validate` reads them against the
projects this voter may choose (the caller passes them: this cycle's, of the voter's district and
city-wide) and the frozen :class:`~pb.ballot.BallotConfig`, and returns the canonical
:class:`~pb.ballot.Choices` or raises one :class:`DomainError` naming every broken rule at once.
Nothing the form can send raises anything else: junk, NUL bytes, huge numbers and huge strings
each give a message.

The choices taken here:

* **Blank ballots.** A ballot with no project is a legal abstention when every rule allows it:
  no ``min_projects`` (or 0), and on a knapsack ballot no least share of the budget. Otherwise the
  broken rule says so ("Choose at least 1 project; you chose 0.").
* **Ranks.** A rank is a whole number from 1 to the number of projects offered. Ranks are
  compacted in order (1, 3, 7 is a first, second and third choice); two projects with the same
  rank are refused. A blank rank leaves the project unranked. At most ``ranking_length`` projects
  are ranked, at least ``min_projects``.
* **Cumulative points.** Whole numbers, 0 or more (blank is 0; a project with 0 points is not on
  the ballot). Each project takes at most ``max_points_per_project``, and the ballot at most
  ``points_per_voter`` in all: a voter need not spread every point, as :mod:`pb.tally` counts
  (its limit is ``max_sum_points``, with no least sum).
* **Unknown projects.** An id that is no number, or that names no project offered to this voter
  (another cycle's or district's), gives "This ballot does not offer that project." A rank or
  points field of such a project that is blank says nothing and is passed over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import LazyString, ngettext
from flask_babel import lazy_gettext as _l

from pb.ballot import BallotConfig, BallotType, Choices
from pb.services.errors import FORM, DomainError, Money

__all__ = [
    "Choices",
    "Option",
    "RawChoices",
    "broken_rules",
    "describe_limits",
    "read_choices",
    "validate",
]

# Ids, ranks and points with more digits than this are refused before they are read.
MAX_DIGITS = 18
_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Option:
    """A project this voter may choose."""

    id: int
    cost_cents: int
    title: str = ""  # in the voter's language, for the messages; blank: "project 12"


@dataclass(frozen=True)
class RawChoices:
    """What the ballot form sent: untrusted strings."""

    # Approval, k-approval, knapsack: the checked projects' ids, possibly repeated or junk.
    selected: tuple[str, ...] = ()
    # Ranked: project id -> rank as typed or selected ("" = not ranked).
    ranks: Mapping[str, str] = field(default_factory=dict)
    # Cumulative: project id -> points as typed ("" = 0).
    points: Mapping[str, str] = field(default_factory=dict)


def _plural(make: Callable[[], str]) -> LazyString:
    """A message with a plural, chosen when it is shown: ``make`` calls ``ngettext`` (written out,
    so that ``make i18n`` finds it), with its numbers bound as the lambda's default arguments."""
    return LazyString(make)


def _number(text: object) -> int | None:
    """The whole number 0 or more written in ``text`` (surrounding spaces allowed), else ``None``."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > MAX_DIGITS or not _NUMBER.fullmatch(text):
        return None
    return int(text)


def _blank(text: object) -> bool:
    return isinstance(text, str) and not text.strip()


def _name(option: Option) -> LazyString:
    if option.title:
        return _l("“%(title)s”", title=option.title)
    return _l("project %(number)d", number=option.id)


NOT_OFFERED = _l("This ballot does not offer that project.")


class _Reader:
    """Reads one form against the projects offered, collecting what is wrong."""

    def __init__(self, options: Sequence[Option]) -> None:
        self.offered = {option.id: option for option in options}
        self.errors: list[LazyString] = []
        self.unknown = False
        self.repeated: set[int] = set()  # said once per project, however often it was sent

    def option(self, text: object) -> Option | None:
        option = self.offered.get(_number(text))  # type: ignore[arg-type]
        if option is None:
            self.unknown = True
        return option

    def twice(self, option: Option) -> None:
        if option.id not in self.repeated:
            self.repeated.add(option.id)
            self.errors.append(_l("You chose %(project)s more than once.", project=_name(option)))

    def selected(self, values: Iterable[str]) -> list[int]:
        chosen: dict[int, Option] = {}
        for text in values:
            option = self.option(text)
            if option is None:
                continue
            if option.id in chosen:
                self.twice(option)
            chosen[option.id] = option
        return sorted(chosen)

    def keyed(self, values: Mapping[str, str]) -> list[tuple[Option, str]]:
        """The (project, value) pairs with a value, each project once."""
        pairs: dict[int, tuple[Option, str]] = {}
        for key, value in values.items():
            if _blank(value):
                continue
            option = self.option(key)
            if option is None:
                continue
            if option.id in pairs:
                self.twice(option)
            pairs[option.id] = (option, value)
        return list(pairs.values())

    def ranked(self, ranks: Mapping[str, str]) -> list[int]:
        highest = max(len(self.offered), 1)
        by_rank: dict[int, list[Option]] = {}
        for option, text in self.keyed(ranks):
            rank = _number(text)
            if rank is None or not 1 <= rank <= highest:
                self.errors.append(
                    _l(
                        "The rank of %(project)s must be a whole number from 1 to %(max)d.",
                        project=_name(option),
                        max=highest,
                    )
                )
                continue
            by_rank.setdefault(rank, []).append(option)
        for rank, options in sorted(by_rank.items()):
            for other in options[1:]:
                self.errors.append(
                    _l(
                        "Two projects share rank %(rank)d: %(project)s and %(other)s.",
                        rank=rank,
                        project=_name(options[0]),
                        other=_name(other),
                    )
                )
        return [option.id for _rank, options in sorted(by_rank.items()) for option in options]

    def cumulative(self, points: Mapping[str, str], most: int | None) -> tuple[list[int], list[int]]:
        given: dict[int, int] = {}
        for option, text in self.keyed(points):
            value = _number(text)
            if value is None:
                self.errors.append(
                    _l("The points for %(project)s must be a whole number, 0 or more.", project=_name(option))
                )
            elif most is not None and value > most:
                self.errors.append(
                    _l(
                        "You gave %(project)s %(points)d points; a project may have at most %(max)d.",
                        project=_name(option),
                        points=value,
                        max=most,
                    )
                )
            elif value > 0:
                given[option.id] = value
        ids = sorted(given)
        return ids, [given[pid] for pid in ids]


def _read(
    config: BallotConfig, options: Sequence[Option], raw: RawChoices
) -> tuple[Choices, list[LazyString]]:
    """The choices the form makes (from what could be read) and what is wrong with reading it."""
    kind = BallotType(config.ballot_type)
    reader = _Reader(options)
    points: list[int] = []
    if kind is BallotType.RANKED:
        projects = reader.ranked(raw.ranks)
    elif kind is BallotType.CUMULATIVE:
        projects, points = reader.cumulative(raw.points, config.max_points_per_project)
    else:
        projects = reader.selected(raw.selected)
    errors = [NOT_OFFERED] if reader.unknown else []
    return Choices(kind, tuple(projects), tuple(points)), errors + reader.errors


def read_choices(config: BallotConfig, options: Sequence[Option], raw: RawChoices) -> Choices:
    """The choices the form makes, or a :class:`DomainError` if any of it cannot be read (unknown
    projects, junk numbers, a project twice, equal ranks). Checks no limit: see :func:`validate`."""
    choices, errors = _read(config, options, raw)
    if errors:
        raise DomainError(errors={FORM: errors})
    return choices


def broken_rules(
    config: BallotConfig,
    budget_cents: int,
    choices: Choices,
    costs: Mapping[int, int],
    *,
    currency: str = "CAD",
) -> list[LazyString]:
    """The limits of ``config`` that ``choices`` break, each as a message naming the rule and the
    numbers (empty when the ballot is valid). ``costs``: each chosen project's cost in cents."""
    kind = BallotType(config.ballot_type)
    count = len(choices.projects)
    broken: list[LazyString] = []
    if kind is BallotType.CUMULATIVE:
        total = sum(choices.points)
        most = config.points_per_voter
        if most is not None and total > most:
            broken.append(
                _plural(
                    lambda n=most: ngettext(
                        "You may spread at most %(num)d point; you gave %(total)d.",
                        "You may spread at most %(num)d points; you gave %(total)d.",
                        n,
                        total=total,
                    )
                )
            )
        return broken
    low = config.min_projects
    high = config.ranking_length if kind is BallotType.RANKED else config.max_projects
    if low and count < low:
        broken.append(_count_rule(True, kind, low, count))
    if high is not None and count > high:
        broken.append(_count_rule(False, kind, high, count))
    if kind is BallotType.KNAPSACK:
        total = choices.total_cost(costs)
        if total > budget_cents:
            broken.append(
                _l(
                    "Your projects cost %(total)s in total, more than the budget of %(budget)s.",
                    total=Money(total, currency),
                    budget=Money(budget_cents, currency),
                )
            )
        share = config.min_budget_share_percent
        if share and total * 100 < budget_cents * share:
            broken.append(
                _l(
                    "Your projects must cost at least %(least)s in total, %(percent)d%% of the budget; "
                    "they cost %(total)s.",
                    least=Money(_least_cost(budget_cents, share), currency),
                    percent=share,
                    total=Money(total, currency),
                )
            )
    return broken


def _least_cost(budget_cents: int, percent: int) -> int:
    """The least total, in whole cents, that fills ``percent`` of the budget (rounded up)."""
    return -(-budget_cents * percent // 100)


# The least and most number of projects, by (too few?, ranked?): each gives the limit and the count.
_COUNT_RULES: dict[tuple[bool, bool], Callable[..., str]] = {
    (True, True): lambda n, count: ngettext(
        "Rank at least %(num)d project; you ranked %(count)d.",
        "Rank at least %(num)d projects; you ranked %(count)d.",
        n,
        count=count,
    ),
    (True, False): lambda n, count: ngettext(
        "Choose at least %(num)d project; you chose %(count)d.",
        "Choose at least %(num)d projects; you chose %(count)d.",
        n,
        count=count,
    ),
    (False, True): lambda n, count: ngettext(
        "Rank at most %(num)d project; you ranked %(count)d.",
        "Rank at most %(num)d projects; you ranked %(count)d.",
        n,
        count=count,
    ),
    (False, False): lambda n, count: ngettext(
        "Choose at most %(num)d project; you chose %(count)d.",
        "Choose at most %(num)d projects; you chose %(count)d.",
        n,
        count=count,
    ),
}


def _count_rule(too_few: bool, kind: BallotType, limit: int, count: int) -> LazyString:
    return LazyString(_COUNT_RULES[too_few, kind is BallotType.RANKED], limit, count)


def validate(
    config: BallotConfig,
    budget_cents: int,
    options: Sequence[Option],
    raw: RawChoices,
    *,
    currency: str = "CAD",
) -> Choices:
    """The voter's valid choices, or one :class:`DomainError` (on ``FORM``) with every broken rule.

    ``options``: the projects this voter may choose; ``budget_cents``: the budget their ballot
    spends (their district's, or the cycle's).
    """
    choices, errors = _read(config, options, raw)
    costs = {option.id: option.cost_cents for option in options}
    errors += broken_rules(config, budget_cents, choices, costs, currency=currency)
    if errors:
        raise DomainError(errors={FORM: errors})
    return choices


def describe_limits(config: BallotConfig, budget_cents: int, *, currency: str = "CAD") -> list[LazyString]:
    """Plain sentences of the rules this ballot has, for the ballot page (in the order to read them)."""
    kind = BallotType(config.ballot_type)
    lines: list[LazyString] = []
    low, high = config.min_projects or None, config.max_projects
    if kind is BallotType.APPROVAL:
        lines.append(_l("Choose every project you support."))
    elif kind is BallotType.K_APPROVAL and high is not None:
        lines.append(
            _plural(
                lambda n=high: ngettext(
                    "Choose up to %(num)d project you support.",
                    "Choose up to %(num)d projects you support.",
                    n,
                )
            )
        )
        high = None
    elif kind is BallotType.KNAPSACK:
        lines.append(
            _l("Your projects may cost at most %(budget)s in total.", budget=Money(budget_cents, currency))
        )
        share = config.min_budget_share_percent
        if share:
            lines.append(
                _l(
                    "Your projects must cost at least %(least)s in total, %(percent)d%% of the budget.",
                    least=Money(_least_cost(budget_cents, share), currency),
                    percent=share,
                )
            )
    elif kind is BallotType.RANKED:
        length = config.ranking_length or 0
        lines.append(
            _plural(
                lambda n=length: ngettext(
                    "Rank up to %(num)d project, your favourite first.",
                    "Rank up to %(num)d projects, your favourite first.",
                    n,
                )
            )
        )
        if low:
            lines.append(
                _plural(
                    lambda n=low: ngettext(
                        "Rank at least %(num)d project.", "Rank at least %(num)d projects.", n
                    )
                )
            )
        return lines
    elif kind is BallotType.CUMULATIVE:
        if config.points_per_voter is not None:
            points = config.points_per_voter
            lines.append(_l("Spread up to %(points)d points over the projects you support.", points=points))
        if config.max_points_per_project:
            lines.append(
                _l(
                    "You may give at most %(points)d points to one project.",
                    points=config.max_points_per_project,
                )
            )
        return lines
    if low and high is not None:
        lines.append(_l("Choose at least %(low)d and at most %(high)d projects.", low=low, high=high))
    elif low:
        lines.append(
            _plural(
                lambda n=low: ngettext(
                    "Choose at least %(num)d project.", "Choose at least %(num)d projects.", n
                )
            )
        )
    elif high is not None:
        lines.append(
            _plural(
                lambda n=high: ngettext(
                    "Choose at most %(num)d project.", "Choose at most %(num)d projects.", n
                )
            )
        )
    return lines
