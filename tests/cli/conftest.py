"""Fixtures for the command-line tests: small hand-made pabulib files and the shared real ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PABULIB_DIR = Path(os.environ.get("PB_PABULIB_DIR") or REPO.parent / "shared" / "pabulib")

# Supporters: a 5, b 4, c 3, d 3. Greedy by supporters funds a (60) and b (30); 10 is left,
# too little for c (20) or d (50).
SMALL = """\
META
key;value
description;A small test district
num_projects;4
num_votes;7
budget;100
vote_type;approval
max_length;3
PROJECTS
project_id;cost;name
a;60;Park
b;30;"Bench; painted"
c;20;Lamp
d;50;Fountain
VOTES
voter_id;vote
1;a,b
2;a,b
3;a,b,c
4;a,c
5;a,d
6;b,d
7;c,d
"""

# x and y tie on everything but their ids; only one fits.
TIE = """\
META
key;value
budget;10
vote_type;approval
PROJECTS
project_id;cost;name
x;10;X
y;10;Y
VOTES
voter_id;vote
1;x
2;y
"""

CUMULATIVE = """\
META
key;value
budget;10
vote_type;cumulative
PROJECTS
project_id;cost
p;4
q;8
VOTES
voter_id;vote;points
1;p,q;1,2
2;q;3
"""


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture
def tie_file(tmp_path: Path) -> Path:
    path = tmp_path / "tie.pb"
    path.write_text(TIE, encoding="utf-8")
    return path


@pytest.fixture
def cumulative_file(tmp_path: Path) -> Path:
    path = tmp_path / "points.pb"
    path.write_text(CUMULATIVE, encoding="utf-8")
    return path


@pytest.fixture
def now():
    """The clock of the tests that build a vote through the services, to the minute."""
    from pb.db import utcnow

    return utcnow().replace(second=0, microsecond=0)


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture(scope="session")
def pabulib_dir() -> Path:
    """The shared real elections: skipped when missing, a failure in CI (CI or PB_REQUIRE_PABULIB)."""
    if not any(PABULIB_DIR.glob("*.pb")):
        reason = f"the pabulib files are missing: no *.pb in {PABULIB_DIR} (set PB_PABULIB_DIR)"
        required = any(
            os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
            for name in ("CI", "PB_REQUIRE_PABULIB")
        )
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    return PABULIB_DIR
