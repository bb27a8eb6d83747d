"""Reading and writing elections in the pabulib format (https://pabulib.org/format).

A pabulib file is UTF-8 text (a byte-order mark is allowed) in three sections, each a
``;``-separated table with a header row and optional ``"quoted"`` fields::

    META
    key;value
    budget;100000
    vote_type;approval
    ...
    PROJECTS
    project_id;cost;name;...
    ...
    VOTES
    voter_id;vote;...
    ...

The API:

* :func:`parse` reads text and returns a :class:`ParseResult`: the election plus the
  ballots that were skipped (always empty unless ``lenient``).
* :func:`loads` is :func:`parse` for callers that only want the :class:`Election`.
* :func:`dumps` writes an election back; ``loads(dumps(e)) == complete_meta(e)`` for every
  election this module can represent, and ``loads(dumps(e)) == e`` for every election
  read by :func:`loads` (the META section is kept key by key, in order, and every extra
  project and vote column is kept in ``Project.extra`` / ``Vote.extra``).
* :func:`read` / :func:`load` / :func:`dump` are thin wrappers around files.

Reading rules:

* ``vote_type`` ``approval`` and ``choose-1`` give approval ballots, ``ordinal`` ranked ballots
  (the ``vote`` column lists the projects best first), ``cumulative`` and ``scoring`` give
  points ballots (the ``points`` column, one value per project of ``vote``). A missing
  ``vote_type`` means approval.
* Numbers are exact: ``12,5`` and ``12.5`` are both 25/2. ``None`` or an empty value for an
  optional META key (a ballot limit) means no limit.
* ``budget`` must be one amount; a comma-separated list of budgets is refused (none of
  the 40 reference files has one; ``budget_per_neighborhood`` and the like stay in META).
* The ballot limits come from the META keys ``min_length``, ``max_length``,
  ``min_sum_cost``, ``max_sum_cost``, ``min_points``, ``max_points``, ``min_sum_points`` and
  ``max_sum_points`` (only explicit keys: ``choose-1`` does not imply ``max_length 1``).

Validation of every ballot: a project id the PROJECTS section does not list, a project
twice in one vote, an empty item, a points column that does not match the vote, points
that are not numbers or not positive (unless ``min_points`` explicitly allows zero or less),
and every ballot limit above; also a voter id used twice. In strict mode (the default) the
first problem raises :class:`PabulibError` with the 1-based line number; with
``lenient=True`` invalid ballots are skipped and listed in ``ParseResult.skipped``.
Problems outside the VOTES section (a missing section, a bad cost, a duplicate project)
are always errors. With ``check_limits=False`` the ballot limits are still read into
:class:`BallotLimits` but not enforced (structural problems still are): use it for
archives whose published ballots do not all respect the file's own limits, such as
``Worldwide_Mechanical_Turk_Utilities_3`` (11 ballots give 99 of the required 100 points).
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pb.tally._gc import paused_gc
from pb.tally.election import (
    MAX_DIGITS,
    MAX_EXPONENT,
    Amount,
    AmountOutOfRange,
    ApprovalBallot,
    Ballot,
    BallotKind,
    BallotLimits,
    CumulativeBallot,
    Election,
    Project,
    RankedBallot,
    Vote,
    exact,
    format_amount,
)

__all__ = [
    "LIMIT_KEYS",
    "PabulibError",
    "ParseResult",
    "check_counts",
    "complete_meta",
    "decode",
    "dump",
    "dumps",
    "load",
    "loads",
    "parse",
    "read",
]

SECTIONS = ("META", "PROJECTS", "VOTES")

# vote_type values and the ballot kind each gives; the first one of a kind is what we write.
VOTE_TYPES: dict[str, BallotKind] = {
    "approval": BallotKind.APPROVAL,
    "choose-1": BallotKind.APPROVAL,
    "ordinal": BallotKind.RANKED,
    "cumulative": BallotKind.CUMULATIVE,
    "scoring": BallotKind.CUMULATIVE,
}
CANONICAL_VOTE_TYPE = {
    BallotKind.APPROVAL: "approval",
    BallotKind.RANKED: "ordinal",
    BallotKind.CUMULATIVE: "cumulative",
}

# BallotLimits field names are the META keys.
LIMIT_KEYS = (
    "min_length",
    "max_length",
    "min_sum_cost",
    "max_sum_cost",
    "min_points",
    "max_points",
    "min_sum_points",
    "max_sum_points",
)
INTEGER_LIMITS = frozenset({"min_length", "max_length"})


class PabulibError(ValueError):
    """A problem in a pabulib file, at a 1-based ``line`` when it is known.

    ``str(error)`` is ``"line 1234: voter 77: unknown project 'x9'"``; ``reason`` is the part
    after the line number and ``voter_id`` the voter concerned, if any.
    """

    def __init__(self, reason: str, line: int | None = None, voter_id: str | None = None):
        self.reason = reason
        self.line = line
        self.voter_id = voter_id
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


@dataclass(frozen=True)
class ParseResult:
    """An election as read, with the invalid ballots that lenient mode left out.

    ``warnings`` are the file's own counts that disagree with its contents (see
    :func:`check_counts`); only lenient mode reads such a file, strict mode raises the first.
    """

    election: Election
    skipped: tuple[PabulibError, ...] = ()
    warnings: tuple[PabulibError, ...] = ()

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)


# ---------------------------------------------------------------------------------------
# reading


def _is_none(text: str) -> bool:
    return text.strip() in ("", "None")


# Error messages quote what the file says, cut to this many characters: a hostile file must
# not turn one line of error into megabytes.
SHOWN_CHARS = 40


OUT_OF_RANGE = f"out of range (at most {MAX_DIGITS} digits and an exponent within ±{MAX_EXPONENT})"


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _shown(text: str) -> str:
    """``text`` quoted for an error message (``repr``, so on one line), at most about 40 characters."""
    return repr(_clip(text))


def _amount(text: str, what: str, line: int) -> Amount:
    try:
        return exact(text)
    except AmountOutOfRange:
        raise PabulibError(f"{what}: {_shown(text.strip())} is {OUT_OF_RANGE}", line) from None
    except ValueError:
        raise PabulibError(f"{what}: not a number: {_shown(text)}", line) from None


class _Rows:
    """The csv rows of the text, skipping blank ones, with the line each starts on."""

    def __init__(self, text: str):
        self.reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
        self.line = 0  # the line the last row returned by next() starts on

    def next(self) -> list[str] | None:
        reader = self.reader
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return None
            except csv.Error as err:
                raise PabulibError(f"unreadable row: {err}", reader.line_num) from None
            if row and any(field.strip() for field in row):
                self.line = start
                return row


def _section_name(row: list[str]) -> str | None:
    name = row[0].strip().upper()
    if name in SECTIONS and not any(field.strip() for field in row[1:]):
        return name
    return None


class _BallotReader:
    """Turns the raw ``vote`` (and ``points``) text into a ballot, once per distinct text."""

    def __init__(self, kind: BallotKind, projects: dict[str, Project], limits: BallotLimits, check: bool):
        self.kind = kind
        self.costs = {pid: p.cost for pid, p in projects.items()}
        self.known = frozenset(self.costs)
        self.limits = limits
        self.check = check
        self.has_limits = check and limits != BallotLimits()
        self.point_values: dict[str, Amount] = {}
        self.cache: dict[object, Ballot | str] = {}  # raw text -> ballot or reason
        self.interned: dict[Ballot, Ballot] = {}

    def ballot_for(self, key: object) -> Ballot | str:
        """The ballot for the raw ``vote`` text (or ``(vote, points)`` pair), or why it is invalid."""
        try:
            return self.cache[key]
        except KeyError:
            pass
        vote, points = (key, None) if isinstance(key, str) else key  # type: ignore[misc]
        try:
            result: Ballot | str = self._make(vote, points)
            result = self.interned.setdefault(result, result)
        except ValueError as err:
            result = str(err)
        self.cache[key] = result
        return result

    def _make(self, vote: str, points: str | None) -> Ballot:
        ids = vote.split(",") if vote else []
        if not vote.isprintable() or " " in vote:
            ids = [item.strip() for item in ids] if vote.strip() else []
        unique = frozenset(ids)
        if not unique <= self.known:
            pid = next(pid for pid in ids if pid not in self.known)
            raise ValueError(f"unknown project {_shown(pid)}" if pid else "empty project id in the vote")
        if len(unique) != len(ids):
            seen: set[str] = set()
            twice = next(pid for pid in ids if pid in seen or seen.add(pid))
            raise ValueError(f"project {_shown(twice)} appears twice in the vote")
        values: list[Amount] = []
        if self.kind is BallotKind.CUMULATIVE:
            values = self._points(ids, points or "")
        if self.has_limits:
            self._check_limits(ids, values)
        if self.kind is BallotKind.APPROVAL:
            return ApprovalBallot(unique)
        if self.kind is BallotKind.RANKED:
            return RankedBallot(tuple(ids))
        return CumulativeBallot(tuple(zip(ids, values, strict=True)))

    def _points(self, ids: list[str], points: str) -> list[Amount]:
        raw = [item.strip() for item in points.split(",")] if points.strip() else []
        if len(raw) != len(ids):
            raise ValueError(f"{len(ids)} projects in the vote but {len(raw)} values in points")
        lowest = self.limits.min_points
        values = []
        for pid, item in zip(ids, raw, strict=True):
            value = self.point_values.get(item)
            if value is None:
                try:
                    value = self.point_values[item] = exact(item)
                except AmountOutOfRange:
                    raise ValueError(
                        f"points for project {_shown(pid)}: {_shown(item)} is {OUT_OF_RANGE}"
                    ) from None
                except ValueError:
                    raise ValueError(
                        f"points for project {_shown(pid)} not a number: {_shown(item)}"
                    ) from None
            if value <= 0 and (lowest is None or value < lowest):
                if self.check and lowest is not None:
                    raise ValueError(
                        f"{format_amount(value)} points for project {_shown(pid)}, below min_points "
                        f"{format_amount(lowest)}"
                    )
                raise ValueError(
                    f"points for project {_shown(pid)} must be positive, not {format_amount(value)}"
                )
            values.append(value)
        return values

    def _check_limits(self, ids: list[str], values: list[Amount]) -> None:
        lim = self.limits
        n = len(ids)
        if lim.min_length is not None and n < lim.min_length:
            raise ValueError(f"{n} projects, fewer than min_length {lim.min_length}")
        if lim.max_length is not None and n > lim.max_length:
            raise ValueError(f"{n} projects, more than max_length {lim.max_length}")
        if lim.min_sum_cost is not None or lim.max_sum_cost is not None:
            total = sum((self.costs[pid] for pid in ids), 0)
            if lim.min_sum_cost is not None and total < lim.min_sum_cost:
                raise ValueError(
                    f"total cost {format_amount(total)} below min_sum_cost {format_amount(lim.min_sum_cost)}"
                )
            if lim.max_sum_cost is not None and total > lim.max_sum_cost:
                raise ValueError(
                    f"total cost {format_amount(total)} above max_sum_cost {format_amount(lim.max_sum_cost)}"
                )
        if self.kind is not BallotKind.CUMULATIVE:
            return
        for pid, value in zip(ids, values, strict=True):
            if lim.min_points is not None and value < lim.min_points:
                raise ValueError(
                    f"{format_amount(value)} points for project {_shown(pid)}, below min_points "
                    f"{format_amount(lim.min_points)}"
                )
            if lim.max_points is not None and value > lim.max_points:
                raise ValueError(
                    f"{format_amount(value)} points for project {_shown(pid)}, above max_points "
                    f"{format_amount(lim.max_points)}"
                )
        total_points = sum(values, 0)
        if lim.min_sum_points is not None and total_points < lim.min_sum_points:
            raise ValueError(
                f"{format_amount(total_points)} points in all, below min_sum_points "
                f"{format_amount(lim.min_sum_points)}"
            )
        if lim.max_sum_points is not None and total_points > lim.max_sum_points:
            raise ValueError(
                f"{format_amount(total_points)} points in all, above max_sum_points "
                f"{format_amount(lim.max_sum_points)}"
            )


def _line_breaks(row: list[str]) -> int:
    """How many line ends the quoted fields of ``row`` contain."""
    return sum(field.count("\n") + field.count("\r") - field.count("\r\n") for field in row)


class _VoteColumns:
    """Turns the rows of the VOTES section into votes."""

    def __init__(self, header: list[str], voter_col: int | None, vote_col: int, points_col: int | None):
        self.width = len(header)
        self.voter_col = voter_col
        self.vote_col = vote_col
        self.points_col = points_col
        self.extra_cols = [i for i in range(len(header)) if i not in (voter_col, vote_col, points_col)]
        self.extra_names = [header[i] for i in self.extra_cols]
        self.extras: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}

    def extra(self, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        try:
            return self.extras[values]
        except KeyError:
            pairs = self.extras[values] = tuple(zip(self.extra_names, values, strict=True))
            return pairs

    def _extra_values(self, data: list[list[str]]) -> list[tuple[str, ...]]:
        if not self.extra_cols:
            return [()] * len(data)
        if len(self.extra_cols) == 1:
            col = self.extra_cols[0]
            return [(row[col],) for row in data]
        return list(map(operator.itemgetter(*self.extra_cols), data))

    def _keys(self, data: list[list[str]]) -> list[object]:
        votes = [row[self.vote_col] for row in data]
        if self.points_col is None:
            return votes  # type: ignore[return-value]
        points_col = self.points_col
        return list(zip(votes, [row[points_col] for row in data], strict=True))

    def fast(self, data: list[list[str]], ballots: _BallotReader) -> list[Vote] | None:
        """The votes, if every row is valid; ``None`` sends the caller to :meth:`slow`."""
        width = self.width
        if any(len(row) != width for row in data):
            return None
        if self.voter_col is None:
            voter_ids = [str(i) for i in range(1, len(data) + 1)]
        else:
            col = self.voter_col
            voter_ids = [row[col].strip() for row in data]
            distinct_ids = set(voter_ids)
            if len(distinct_ids) != len(voter_ids) or "" in distinct_ids:
                return None
        keys = self._keys(data)
        cache = ballots.cache
        for key in set(keys).difference(cache):
            if isinstance(ballots.ballot_for(key), str):
                return None
        made = list(map(cache.__getitem__, keys))
        extras = self.extras
        values = self._extra_values(data)
        for distinct in set(values).difference(extras):
            self.extra(distinct)
        return list(map(Vote, voter_ids, made, map(extras.__getitem__, values)))

    def slow(
        self,
        data: list[list[str]],
        lines: Sequence[int],
        ballots: _BallotReader,
        lenient: bool,
        skipped: list[PabulibError],
    ) -> list[Vote]:
        """The votes, row by row, raising or skipping (``lenient``) at the first problem of a row."""
        votes: list[Vote] = []
        voter_lines: dict[str, int] = {}
        width = self.width
        voter_col = self.voter_col
        keys = self._keys([row if len(row) == width else [""] * width for row in data])
        for number, (row, line, key) in enumerate(zip(data, lines, keys, strict=True), 1):
            if voter_col is None:
                voter_id = str(number)
            elif voter_col < len(row):
                voter_id = row[voter_col].strip()
            else:
                voter_id = ""
            if not any(field.strip() for field in row):
                continue
            if len(row) != width:
                who = f"voter {_clip(voter_id)}: " if voter_id else ""
                problem = PabulibError(
                    f"{who}{len(row)} fields, the header has {width}", line, voter_id or None
                )
            elif not voter_id:
                problem = PabulibError("a vote without a voter id", line)
            else:
                ballot = ballots.ballot_for(key)
                if isinstance(ballot, str):
                    problem = PabulibError(f"voter {_clip(voter_id)}: {ballot}", line, voter_id)
                elif voter_id in voter_lines:
                    problem = PabulibError(
                        f"voter {_clip(voter_id)}: voter id used twice (first on line {voter_lines[voter_id]})",
                        line,
                        voter_id,
                    )
                else:
                    voter_lines[voter_id] = line
                    extra = self.extra(tuple(row[i] for i in self.extra_cols))
                    votes.append(Vote(voter_id, ballot, extra))
                    continue
            if not lenient:
                raise problem
            skipped.append(problem)
        return votes


def _limits(meta: list[tuple[str, str]], lines: dict[str, int]) -> BallotLimits:
    values: dict[str, Amount | None] = {}
    for key, value in meta:
        if key not in LIMIT_KEYS:
            continue
        if _is_none(value):
            values[key] = None
            continue
        amount = _amount(value, key, lines[key])
        if key in INTEGER_LIMITS and not isinstance(amount, int):
            raise PabulibError(f"{key}: not a whole number: {_shown(value)}", lines[key])
        values[key] = amount
    return BallotLimits(**values)  # type: ignore[arg-type]


def _index(header: list[str], name: str, section: str, line: int) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise PabulibError(f"{section}: no {_shown(name)} column", line) from None


def parse(text: str, *, lenient: bool = False, check_limits: bool = True) -> ParseResult:
    """Read pabulib text. See the module docstring for what is checked."""
    # Parsing allocates hundreds of thousands of small objects and no reference cycles;
    # pausing the cyclic garbage collector meanwhile makes it about a third faster.
    with paused_gc():
        return _parse(text, lenient, check_limits)


def _parse(text: str, lenient: bool, check_limits: bool) -> ParseResult:
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = _Rows(text)

    def section(expected: str, found: list[str] | None) -> list[str]:
        """The header row of the section ``expected``, whose first row is ``found``."""
        if found is None:
            raise PabulibError(f"missing {expected} section")
        if _section_name(found) != expected:
            raise PabulibError(f"expected the {expected} section, found {_shown(found[0])}", rows.line)
        line = rows.line
        header = rows.next()
        if header is None or _section_name(header):
            raise PabulibError(f"{expected} section has no header row", line)
        return [name.strip() for name in header]

    # META
    meta: list[tuple[str, str]] = []
    meta_lines: dict[str, int] = {}
    section("META", rows.next())
    header_line = rows.line
    row = rows.next()
    while row is not None and not _section_name(row):
        key = row[0].strip()
        if key in meta_lines:
            raise PabulibError(
                f"META: key {_shown(key)} given twice (first on line {meta_lines[key]})", rows.line
            )
        meta.append((key, ";".join(row[1:])))
        meta_lines[key] = rows.line
        row = rows.next()
    meta_dict = dict(meta)
    if "budget" not in meta_dict or _is_none(meta_dict["budget"]):
        raise PabulibError("META has no budget", header_line)
    budget_text = meta_dict["budget"]
    if budget_text.count(",") > 1:
        raise PabulibError(
            f"budget: several values ({_shown(budget_text)}); expected one", meta_lines["budget"]
        )
    budget = _amount(budget_text, "budget", meta_lines["budget"])
    if budget <= 0:
        raise PabulibError(f"budget must be positive, not {format_amount(budget)}", meta_lines["budget"])
    vote_type = meta_dict.get("vote_type", "approval").strip()
    if vote_type not in VOTE_TYPES:
        raise PabulibError(
            f"vote_type {_shown(vote_type)} not supported (expected one of {', '.join(VOTE_TYPES)})",
            meta_lines["vote_type"],
        )
    kind = VOTE_TYPES[vote_type]
    limits = _limits(meta, meta_lines)

    # PROJECTS
    header = section("PROJECTS", row)
    header_line = rows.line
    id_col = _index(header, "project_id", "PROJECTS", header_line)
    cost_col = _index(header, "cost", "PROJECTS", header_line)
    name_col = header.index("name") if "name" in header else None
    extra_cols = [i for i in range(len(header)) if i not in (id_col, cost_col, name_col)]
    projects: dict[str, Project] = {}
    project_lines: dict[str, int] = {}
    row = rows.next()
    while row is not None and not _section_name(row):
        line = rows.line
        if len(row) != len(header):
            raise PabulibError(f"PROJECTS: {len(row)} fields, the header has {len(header)}", line)
        pid = row[id_col].strip()
        if not pid:
            raise PabulibError("PROJECTS: empty project id", line)
        if pid in projects:
            raise PabulibError(
                f"PROJECTS: project {_shown(pid)} listed twice (first on line {project_lines[pid]})", line
            )
        cost = _amount(row[cost_col], f"project {_shown(pid)}: cost", line)
        if cost < 0:
            raise PabulibError(f"project {_shown(pid)}: negative cost {format_amount(cost)}", line)
        projects[pid] = Project(
            pid,
            cost,
            row[name_col] if name_col is not None else "",
            tuple((header[i], row[i]) for i in extra_cols),
        )
        project_lines[pid] = line
        row = rows.next()

    # VOTES
    header = section("VOTES", row)
    header_line = rows.line
    vote_col = _index(header, "vote", "VOTES", header_line)
    voter_col = header.index("voter_id") if "voter_id" in header else None
    points_col = None
    if kind is BallotKind.CUMULATIVE:
        points_col = _index(header, "points", "VOTES", header_line)
    columns = _VoteColumns(header, voter_col, vote_col, points_col)
    ballots = _BallotReader(kind, projects, limits, check_limits)
    reader = rows.reader
    first_line = reader.line_num + 1
    try:
        data = list(reader)
    except csv.Error as err:
        raise PabulibError(f"unreadable row: {err}", reader.line_num) from None
    votes = columns.fast(data, ballots)
    skipped: list[PabulibError] = []
    if votes is None:
        if reader.line_num - first_line + 1 == len(data):  # no row spans several lines
            lines: Sequence[int] = range(first_line, first_line + len(data))
        else:
            lines = list(
                itertools.accumulate((_line_breaks(row) + 1 for row in data[:-1]), initial=first_line)
            )
        votes = columns.slow(data, lines, ballots, lenient, skipped)

    election = Election(budget, tuple(projects.values()), tuple(votes), kind, limits, tuple(meta))
    problems = check_counts(election, len(votes) + len(skipped), meta_lines, project_lines)
    if problems and not lenient:
        raise problems[0]
    return ParseResult(election, tuple(skipped), tuple(problems))


_WHOLE = re.compile(r"\s*[0-9]{1,15}\s*")


def _column_scores(election: Election) -> tuple[dict[str, int], dict[str, Amount]]:
    """For each project: how many ballots contain it, and its score as pabulib files record it."""
    supporters = dict.fromkeys(election.project_by_id, 0)
    scores: dict[str, Amount] = dict.fromkeys(election.project_by_id, 0)
    for ballot, n in election.profile:
        if isinstance(ballot, ApprovalBallot):
            for pid in ballot.projects:
                supporters[pid] += n
                scores[pid] += n
        elif isinstance(ballot, RankedBallot):
            k = len(ballot.ranking)
            for position, pid in enumerate(ballot.ranking):
                supporters[pid] += n
                scores[pid] += n * (k - position)
        else:
            for pid, points in ballot.points:
                supporters[pid] += n
                scores[pid] += n * points
    return supporters, scores


def check_counts(
    election: Election, ballot_rows: int, meta_lines: dict[str, int], project_lines: dict[str, int]
) -> list[PabulibError]:
    """Where the file's own counts disagree with what it contains, one error per kind of count.

    Checked, when present and not empty or ``None``:

    * META ``num_projects``: the number of projects listed;
    * META ``num_votes``: the number of ballot rows in VOTES (counted or skipped by lenient
      mode: the key describes the file, not what was counted), so a file cut short shows;
    * the PROJECTS ``votes`` column: how many ballots contain the project;
    * the PROJECTS ``score`` column: for points ballots the total points; for ranked ballots
      the positional score with which pabulib files are published (a ranking of ``k``
      projects gives ``k, k-1, ..., 1``, which is Kraków's 3-2-1 for its 3-project ballots);
      for approval ballots the number of ballots, as for ``votes``.

    All 40 reference files of pabulib agree with these definitions on every count (the
    ``votes`` and ``score`` columns of the 9 ranked files, with rankings of varying length,
    included), so a disagreement is an error and not a convention to tolerate. With
    ``lenient`` it is a warning: a file whose invalid ballots were skipped, for example,
    no longer matches its ``votes`` column.

    A mismatch in a column is reported once, for its first project, with how many more differ.
    """
    problems: list[PabulibError] = []
    meta = dict(election.meta)
    for key, actual, what in (
        ("num_projects", len(election.projects), "projects"),
        ("num_votes", ballot_rows, "ballots"),
    ):
        text = meta.get(key)
        if text is None or _is_none(text):
            continue
        if not _WHOLE.fullmatch(text):
            problems.append(PabulibError(f"META {key}: not a whole number: {_shown(text)}", meta_lines[key]))
        elif int(text) != actual:
            problems.append(
                PabulibError(f"META says {key} {int(text)} but the file has {actual} {what}", meta_lines[key])
            )
    columns = {name for p in election.projects for name, _ in p.extra} & {"votes", "score"}
    if not columns:
        return problems
    supporters, scores = _column_scores(election)
    for column in ("votes", "score"):
        if column not in columns:
            continue
        wrong: list[PabulibError] = []
        for project in election.projects:
            text = dict(project.extra).get(column)
            if text is None or _is_none(text):
                continue
            line = project_lines.get(project.id)
            label = f"PROJECTS: project {_shown(project.id)}: {column} column"
            expected = supporters[project.id] if column == "votes" else scores[project.id]
            try:
                recorded = exact(text)
            except ValueError:
                wrong.append(PabulibError(f"{label}: not a number: {_shown(text)}", line))
                continue
            if recorded != expected:
                what = (
                    "counted ballots contain it" if column == "votes" else "is what the counted ballots give"
                )
                wrong.append(
                    PabulibError(
                        f"{label} says {format_amount(recorded)} but {format_amount(expected)} {what}", line
                    )
                )
        if wrong:
            first = wrong[0]
            more = f" (and {len(wrong) - 1} more projects)" if len(wrong) > 1 else ""
            problems.append(PabulibError(first.reason + more, first.line))
    return problems


def loads(text: str, *, lenient: bool = False, check_limits: bool = True) -> Election:
    """The election in pabulib ``text``; :func:`parse` also tells which ballots lenient mode skipped."""
    return parse(text, lenient=lenient, check_limits=check_limits).election


def decode(data: bytes) -> str:
    """Pabulib bytes as text: UTF-8, a byte-order mark allowed; else :class:`PabulibError` with the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise PabulibError(f"not UTF-8 text (byte {err.start})", line) from None


def read(path: str | os.PathLike[str], *, lenient: bool = False, check_limits: bool = True) -> ParseResult:
    """:func:`parse` on a file. ``OSError`` (such as a missing file) is not caught."""
    with open(path, "rb") as f:
        data = f.read()
    return parse(decode(data), lenient=lenient, check_limits=check_limits)


def load(path: str | os.PathLike[str], *, lenient: bool = False, check_limits: bool = True) -> Election:
    """:func:`loads` on a file."""
    return read(path, lenient=lenient, check_limits=check_limits).election


# ---------------------------------------------------------------------------------------
# writing


def _same_amount(text: str, value: Amount | None) -> bool:
    if value is None:
        return _is_none(text)
    try:
        return exact(text) == value
    except (ValueError, ZeroDivisionError):
        return False


def _same_int(text: str, value: int) -> bool:
    try:
        return int(text.strip()) == value
    except ValueError:
        return False


def complete_meta(election: Election) -> Election:
    """The election with META made to agree with it.

    ``num_projects``, ``num_votes``, ``budget``, ``vote_type`` and the ballot limits are
    updated where they disagree with the election's own values (a value that is merely
    written differently, "400000.0" for 400000, is kept), added at the end when missing,
    and a limit the election does not have is removed. Other keys are kept as they are.
    This is the META section :func:`dumps` writes.
    """
    wanted: dict[str, str | None] = {
        "num_projects": str(len(election.projects)),
        "num_votes": str(len(election.votes)),
        "budget": format_amount(election.budget),
    }
    keep: dict[str, bool] = {}
    current = dict(election.meta)
    keep["num_projects"] = _same_int(current.get("num_projects", ""), len(election.projects))
    keep["num_votes"] = _same_int(current.get("num_votes", ""), len(election.votes))
    keep["budget"] = _same_amount(current.get("budget", ""), election.budget)
    vote_type = current.get("vote_type", "").strip()
    keep["vote_type"] = VOTE_TYPES.get(vote_type) is election.kind
    wanted["vote_type"] = CANONICAL_VOTE_TYPE[election.kind]
    for key in LIMIT_KEYS:
        value = getattr(election.limits, key)
        wanted[key] = None if value is None else format_amount(value)
        keep[key] = key in current and _same_amount(current[key], value)
    meta: list[tuple[str, str]] = []
    for key, value in election.meta:
        if key not in wanted or keep[key]:
            meta.append((key, value))
        elif wanted[key] is not None:
            meta.append((key, wanted[key]))  # type: ignore[arg-type]
    for key, value in wanted.items():
        if value is not None and key not in current:
            meta.append((key, value))
    meta_tuple = tuple(meta)
    if meta_tuple == election.meta:
        return election
    return replace(election, meta=meta_tuple)


def _check_id(pid: str, what: str) -> None:
    if not pid or pid != pid.strip() or "," in pid or "\n" in pid or "\r" in pid:
        raise ValueError(f"{what} {pid!r} cannot be written to a pabulib file")


def _columns(rows: list[tuple[tuple[str, str], ...]], fixed: tuple[str, ...]) -> list[str]:
    names: dict[str, None] = {}
    for extra in rows:
        for name, _ in extra:
            if name in fixed:
                raise ValueError(f"extra column {name!r} clashes with a pabulib column")
            names.setdefault(name, None)
    return list(names)


def _vote_fields(ballot: Ballot, order: dict[str, int]) -> tuple[str, ...]:
    if isinstance(ballot, ApprovalBallot):
        return (",".join(sorted(ballot.projects, key=order.__getitem__)),)
    if isinstance(ballot, RankedBallot):
        return (",".join(ballot.ranking),)
    return (
        ",".join(pid for pid, _ in ballot.points),
        ",".join(format_amount(points) for _, points in ballot.points),
    )


_NEEDS_QUOTES = re.compile(r'[;"\r\n]')


def _field(text: str) -> str:
    """A csv field: quoted, with quotes doubled, when it holds a separator, a quote or a line break."""
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _row(fields: Iterable[str]) -> str:
    return ";".join(map(_field, fields)) + "\n"


def dumps(election: Election) -> str:
    """The election as pabulib text (UTF-8 without a byte-order mark, ``\\n`` line ends).

    META is :func:`complete_meta`; approval ballots list their projects in the order of
    the PROJECTS section. A project or vote lacking an extra column that others have is
    written with an empty value. Raises ``ValueError`` for what the format cannot hold: a
    project or voter id that is empty, has surrounding spaces or a line break, a project id
    with a comma, a ballot naming a project the election does not list, or a ballot of
    another kind than the election's.
    """
    election = complete_meta(election)
    out = ["META\n", "key;value\n"]
    out.extend(_row(item) for item in election.meta)

    out.append("PROJECTS\n")
    with_name = any(p.name for p in election.projects)
    extra_names = _columns([p.extra for p in election.projects], ("project_id", "cost", "name"))
    out.append(_row(["project_id", "cost", *(["name"] if with_name else []), *extra_names]))
    for project in election.projects:
        _check_id(project.id, "project id")
        extra = dict(project.extra)
        out.append(
            _row(
                [
                    project.id,
                    format_amount(project.cost),
                    *([project.name] if with_name else []),
                    *(extra.get(name, "") for name in extra_names),
                ]
            )
        )

    out.append("VOTES\n")
    cumulative = election.kind is BallotKind.CUMULATIVE
    extra_names = _columns([v.extra for v in election.votes], ("voter_id", "vote", "points"))
    out.append(_row(["voter_id", "vote", *(["points"] if cumulative else []), *extra_names]))
    order = {p.id: i for i, p in enumerate(election.projects)}
    known = frozenset(order)
    written: dict[Ballot, str] = {}  # ballot -> ";vote[;points]"
    extra_text: dict[tuple[tuple[str, str], ...], str] = {}  # extra -> ";value;value..."
    for vote in election.votes:
        voter_id = vote.voter_id
        if not voter_id or voter_id != voter_id.strip() or "\n" in voter_id or "\r" in voter_id:
            raise ValueError(f"voter id {voter_id!r} cannot be written to a pabulib file")
        ballot_text = written.get(vote.ballot)
        if ballot_text is None:
            ballot = vote.ballot
            if ballot.kind is not election.kind:
                raise ValueError(f"voter {voter_id}: a {ballot.kind} ballot in a {election.kind} election")
            if not ballot.project_ids() <= known:
                unknown = sorted(ballot.project_ids() - known)[0]
                raise ValueError(f"voter {voter_id}: unknown project {unknown!r}")
            ballot_text = written[ballot] = "".join(";" + _field(f) for f in _vote_fields(ballot, order))
        values = extra_text.get(vote.extra)
        if values is None:
            extra = dict(vote.extra)
            values = extra_text[vote.extra] = "".join(
                ";" + _field(extra.get(name, "")) for name in extra_names
            )
        out.append(f"{_field(voter_id)}{ballot_text}{values}\n")
    return "".join(out)


def dump(election: Election, path: str | os.PathLike[str]) -> None:
    """Write :func:`dumps` to a file (UTF-8)."""
    text = dumps(election)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
