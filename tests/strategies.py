"""Hypothesis strategies shared by the test suite.

Elections are small (1-8 projects, 0-12 voters, small costs and budgets) so that the
properties run fast and shrink to readable counterexamples. Every strategy takes:

* ``fractions``: also draw costs and budgets such as 25/2 or 1/3 (default: integers only);
* ``limits``: attach :class:`BallotLimits` that every generated ballot respects;
* ``extras``: add extra META keys, project columns and vote columns, as a pabulib file has.

The META section of every generated election is already complete (see
:func:`pb.tally.pabulib.complete_meta`), so ``pabulib.loads(pabulib.dumps(e)) == e``.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from pb.tally.election import (
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
)
from pb.tally.pabulib import complete_meta

MAX_PROJECTS = 8
MAX_VOTERS = 12

# Project ids: digits (so that "10" < "9" ties show up), letters, and pabulib-style codes.
_ID_ALPHABET = "0123456789abcXYZ-./_"
project_ids = st.text(_ID_ALPHABET, min_size=1, max_size=4)
# Free text for names, META values and extra columns: separators, quotes, accents, line breaks.
free_text = st.sampled_from(
    ["", "None", "a;b", 'say "hi"', "Łódź, Kraków", "x\ny", "\r", " padded "]
) | st.text('ab ;,"\n\r\tłé€😀', max_size=6)
_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz_"
_RESERVED_META = {
    "budget",
    "vote_type",
    "num_projects",
    "num_votes",
    "min_length",
    "max_length",
    "min_sum_cost",
    "max_sum_cost",
    "min_points",
    "max_points",
    "min_sum_points",
    "max_sum_points",
    "meta",
    "projects",
    "votes",
}


@st.composite
def amounts(draw, *, min_value: int = 0, max_value: int = 20, fractions: bool = False):
    """A small exact amount: an int, or with ``fractions`` sometimes a Fraction."""
    if fractions and draw(st.booleans()):
        denominator = draw(st.sampled_from([2, 3, 4, 10, 100]))
        numerator = draw(st.integers(min_value * denominator, max_value * denominator))
        return exact(Fraction(numerator, denominator))
    return draw(st.integers(min_value, max_value))


@st.composite
def _projects(draw, *, fractions: bool, extras: bool) -> tuple[Project, ...]:
    ids = draw(st.lists(project_ids, min_size=1, max_size=MAX_PROJECTS, unique=True))
    names = draw(st.booleans())
    columns = (
        draw(st.lists(st.text(_KEY_ALPHABET, min_size=1, max_size=6), unique=True, max_size=3))
        if extras
        else []
    )
    # votes and score are counts the reader checks against the ballots; free text there is invalid.
    columns = [c for c in columns if c not in ("project_id", "cost", "name", "votes", "score")]
    projects = []
    for pid in ids:
        cost = draw(amounts(min_value=0, max_value=20, fractions=fractions))
        name = draw(free_text) if names else ""
        extra = tuple((column, draw(free_text)) for column in columns)
        projects.append(Project(pid, cost, name, extra))
    return tuple(projects)


def _ballot(draw, kind: BallotKind, ids: list[str]) -> Ballot:
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids))) if ids else []
    if kind is BallotKind.APPROVAL:
        return ApprovalBallot(frozenset(chosen))
    if kind is BallotKind.RANKED:
        return RankedBallot(tuple(chosen))
    points = [draw(amounts(min_value=1, max_value=10)) for _ in chosen]
    return CumulativeBallot(tuple(zip(chosen, points, strict=True)))


def _points(ballot: Ballot) -> list:
    return [p for _, p in ballot.points] if isinstance(ballot, CumulativeBallot) else []


@st.composite
def _limits(draw, kind: BallotKind, projects: tuple[Project, ...], ballots: list[Ballot]) -> BallotLimits:
    """Limits that every ballot in ``ballots`` respects (each limit present or not)."""
    cost = {p.id: p.cost for p in projects}
    lengths = [len(b.project_ids()) for b in ballots] or [0]
    sums = [sum((cost[pid] for pid in b.project_ids()), 0) for b in ballots] or [0]
    fields: dict = {}

    def maybe(name, value):
        if draw(st.booleans()):
            fields[name] = value

    maybe("min_length", draw(st.integers(0, min(lengths))))
    maybe("max_length", max(lengths) + draw(st.integers(0, 2)))
    maybe("min_sum_cost", max(0, min(sums) - draw(st.integers(0, 3))))
    maybe("max_sum_cost", exact(max(sums) + draw(st.integers(0, 5))))
    if kind is BallotKind.CUMULATIVE:
        values = [p for b in ballots for p in _points(b)]
        totals = [sum(_points(b), 0) for b in ballots] or [0]
        if values:
            maybe("min_points", draw(st.integers(1, min(values))))
            maybe("max_points", max(values) + draw(st.integers(0, 3)))
        maybe("min_sum_points", draw(st.integers(0, min(totals))))
        maybe("max_sum_points", max(totals) + draw(st.integers(0, 3)))
    return BallotLimits(**fields)


@st.composite
def elections(
    draw,
    kind: BallotKind | None = None,
    *,
    fractions: bool = False,
    limits: bool = False,
    extras: bool = False,
    min_voters: int = 0,
    max_voters: int = MAX_VOTERS,
) -> Election:
    """An election of the given ``kind`` (any kind when ``None``)."""
    if kind is None:
        kind = draw(st.sampled_from(list(BallotKind)))
    projects = draw(_projects(fractions=fractions, extras=extras))
    ids = [p.id for p in projects]
    n_voters = draw(st.integers(min_voters, max_voters))
    ballots = [_ballot(draw, kind, ids) for _ in range(n_voters)]
    voter_ids = draw(
        st.lists(
            st.text(_ID_ALPHABET, min_size=1, max_size=5), min_size=n_voters, max_size=n_voters, unique=True
        )
        if extras
        else st.just([str(i + 1) for i in range(n_voters)])
    )
    vote_columns: list[str] = []
    if extras:
        vote_columns = draw(st.lists(st.text(_KEY_ALPHABET, min_size=1, max_size=6), unique=True, max_size=2))
        vote_columns = [c for c in vote_columns if c not in ("voter_id", "vote", "points")]
    votes = tuple(
        Vote(voter_id, ballot, tuple((c, draw(free_text)) for c in vote_columns))
        for voter_id, ballot in zip(voter_ids, ballots, strict=True)
    )
    total = sum((p.cost for p in projects), 0)
    budget = draw(amounts(min_value=1, max_value=max(1, int(total) + 5), fractions=fractions))
    ballot_limits = draw(_limits(kind, projects, ballots)) if limits else BallotLimits()
    meta: list[tuple[str, str]] = []
    if extras:
        keys = draw(st.lists(st.text(_KEY_ALPHABET, min_size=1, max_size=8), unique=True, max_size=4))
        meta = [(key, draw(free_text)) for key in keys if key not in _RESERVED_META]
        if kind is BallotKind.APPROVAL and draw(st.booleans()):
            meta.append(("vote_type", "choose-1"))
        if kind is BallotKind.CUMULATIVE and draw(st.booleans()):
            meta.append(("vote_type", "scoring"))
    election = Election(budget, projects, votes, kind, ballot_limits, tuple(meta))
    return complete_meta(election)


def approval_elections(**kwargs) -> st.SearchStrategy[Election]:
    return elections(BallotKind.APPROVAL, **kwargs)


def ranked_elections(**kwargs) -> st.SearchStrategy[Election]:
    return elections(BallotKind.RANKED, **kwargs)


def cumulative_elections(**kwargs) -> st.SearchStrategy[Election]:
    return elections(BallotKind.CUMULATIVE, **kwargs)


# --- A cycle's ballot configuration (pb.ballot) -------------------------------------------------


def ballot_configs(valid: bool = False) -> st.SearchStrategy:
    """:class:`pb.ballot.BallotConfig` values: any values of the right types, or (``valid=True``) a
    rule, utility, completion and tie-break that the registry combines, with the limits normalized."""
    from pb.ballot import LIMIT_FIELDS, BallotConfig, BallotType
    from pb.services.results import RULE_CHOICES, TIE_BREAKS

    limit = st.none() | st.integers(min_value=0, max_value=10**6)
    names = st.text(max_size=12)

    @st.composite
    def draw(draw_value) -> BallotConfig:
        ballot_type = draw_value(st.sampled_from(BallotType))
        limits = {name: draw_value(limit) for name in LIMIT_FIELDS}
        if valid:
            rules = [rule for rule in RULE_CHOICES.values() if rule.counts(ballot_type)]
            rule = draw_value(st.sampled_from(rules))
            rule_fields = {
                "tally_rule": rule.name,
                "tally_utility": draw_value(st.sampled_from(rule.utilities)),
                "tally_completion": draw_value(st.sampled_from(rule.completions)),
                "tie_break": draw_value(st.sampled_from(TIE_BREAKS)),
            }
        else:
            rule_fields = {
                name: draw_value(names) for name in ("tally_rule", "tally_utility", "tally_completion", "tie_break")
            }
        config = BallotConfig(
            ballot_type=ballot_type,
            allow_revision=draw_value(st.booleans()),
            tie_break_seed=draw_value(st.integers(min_value=0, max_value=2**31 - 1)),
            **limits,
            **rule_fields,
        )
        return config.normalized() if valid else config

    return draw()


@st.composite
def ballot_choices(draw, ballot_type=None):
    """A valid :class:`pb.ballot.Choices` of any (or the given) ballot type, with small ids."""
    from pb.ballot import BallotType, Choices

    kind = draw(st.sampled_from(BallotType)) if ballot_type is None else BallotType(ballot_type)
    ids = draw(st.lists(st.integers(min_value=0, max_value=10**12), unique=True, max_size=8))
    if kind is BallotType.RANKED:
        return Choices(kind, tuple(ids))
    ids = sorted(ids)
    if kind is BallotType.CUMULATIVE:
        points = draw(st.lists(st.integers(min_value=1, max_value=10**9), min_size=len(ids), max_size=len(ids)))
        return Choices(kind, tuple(ids), tuple(points))
    return Choices(kind, tuple(ids))


# Form values as an attacker sends them: any text (NUL, lone surrogates), huge numbers and strings.
junk_text = (
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
    | st.sampled_from(["", " ", "\x00", "1\x00", "\ud800", "-1", "+1", "1.5", "1e3", "٣", "0x10", " 2 "])
    | st.integers(min_value=-(10**40), max_value=10**40).map(str)
    | st.sampled_from(["9" * 100_000, "1" * 19, "0" * 99_999 + "1", "x" * 100_000])
)


# --- Voter codes (pb.voter_codes) ---------------------------------------------------------------


def voter_codes() -> st.SearchStrategy[str]:
    """A normalized voter code: 16 characters of the code alphabet (not necessarily a drawn one)."""
    from pb.voter_codes import ALPHABET, LENGTH

    return st.text(ALPHABET, min_size=LENGTH, max_size=LENGTH)


@st.composite
def typed_codes(draw, code: str | None = None) -> tuple[str, str]:
    """``(code, typed)``: a code and one way a person may type or paste it, with any case, spaces,
    dashes and invisible characters between its characters and around it."""
    if code is None:
        code = draw(voter_codes())
    separators = st.text(" \t\n-\u2013\u2014\u00a0\u202f\u200b\ufeff", max_size=2)
    parts = [draw(separators)]
    for character in code:
        parts.append(character.lower() if draw(st.booleans()) else character)
        parts.append(draw(separators))
    return code, "".join(parts)


# --- Voter registry identities (pb.registry_identity) --------------------------------------------

# Letters with the accents names in Québec and Canada carry, and the plain letters they fold to.
_ACCENTED = {"e": "éèêëÉÈÊË", "a": "àâäÀÂÄ", "c": "çÇ", "i": "îïÎÏ", "o": "ôöÔÖ", "u": "ùûüÙÛÜ", "y": "ÿŸ"}


def plain_names() -> st.SearchStrategy[str]:
    """A name in its canonical form: lowercase ASCII letters, as :func:`pb.registry_identity.name_key` gives."""
    return st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20)


@st.composite
def written_names(draw, name: str | None = None) -> tuple[str, str]:
    """``(canonical, written)``: a canonical name and one way a person or a file may write it, with any
    case, accents, and spaces, hyphens or apostrophes between and around its letters."""
    if name is None:
        name = draw(plain_names())
    separators = st.text(" -'’\u2011\u00a0", max_size=2)
    parts = [draw(separators)]
    for letter in name:
        choices = [letter, letter.upper(), *_ACCENTED.get(letter, "")]
        parts.append(draw(st.sampled_from(choices)))
        parts.append(draw(separators))
    return name, "".join(parts)


_POSTAL_FIRST = "ABCEGHJKLMNPRSTVXY"
_POSTAL_OTHER = "ABCEGHJKLMNPRSTVWXYZ"


@st.composite
def postal_codes(draw) -> str:
    """A valid Canadian postal code, compact and in capitals: ``H2X1Y4``."""
    digits = st.sampled_from("0123456789")
    return "".join(
        [draw(st.sampled_from(_POSTAL_FIRST)), draw(digits), draw(st.sampled_from(_POSTAL_OTHER)), draw(digits),
         draw(st.sampled_from(_POSTAL_OTHER)), draw(digits)]
    )
