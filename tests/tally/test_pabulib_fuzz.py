"""Fuzzing the reader with mutations of real files: every input is read or refused on one line.

Each example takes a small real election and damages it: a slice replaced with hostile text
(huge or tiny exponents, long digit runs, separators, quotes, line breaks), a line dropped or
repeated, the file cut short. :func:`pb.tally.pabulib.parse` must then return an election or
raise :class:`PabulibError` with a one-line message, within a bounded time, never another
exception. The number of examples comes from the hypothesis profile (see conftest.py).
"""

from __future__ import annotations

import time
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import pabulib
from pb.tally.pabulib import PabulibError
from tests.tally.conftest import PABULIB_DIR, missing_pabulib

# Small files of each ballot kind, so that an example runs in milliseconds.
FILES = (
    "Poland_Warszawa_2017_Plac_Wojska_Polskiego",  # approval, 27 voters
    "Netherlands_Amsterdam_643",  # approval, 66 voters
    "US_Stanford_Dataset_PB_Chicago_47th_Ward_2021_vote_rankings",  # ranked
    "Worldwide_Mechanical_Turk_Utilities_3",  # points, breaks its own limits
)
HOSTILE = [
    "1e10000000",
    "1e99999999",
    "1e-1000000",
    "1e5000",
    "9" * 5000,
    "-5",
    "0",
    "None",
    "",
    ";",
    ";;;",
    ",",
    '"',
    '"a\nb"',
    "\n",
    "\r\n",
    "\ufeff",
    "VOTES",
    "PROJECTS",
    "META",
    "1/0",
    "nan",
    "\x00",
    "é€😀",
]
SECONDS_PER_EXAMPLE = 2.0


@cache
def _text(name: str) -> str:
    path = PABULIB_DIR / f"{name}.pb"
    if not path.is_file():
        missing_pabulib()
    return path.read_text(encoding="utf-8")


@st.composite
def mutated(draw) -> str:
    text = _text(draw(st.sampled_from(FILES)))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["replace", "insert", "drop_line", "repeat_line", "cut"]))
        at = draw(st.integers(0, len(text)))
        if how in ("replace", "insert"):
            piece = draw(st.sampled_from(HOSTILE) | st.text('0123456789e.,-;"\n', max_size=12))
            end = min(len(text), at + (draw(st.integers(0, 20)) if how == "replace" else 0))
            text = text[:at] + piece + text[end:]
        elif how == "cut":
            text = text[:at]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if how == "drop_line" else [lines[i], lines[i]]
            text = "\n".join(lines)
    return text


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated(), st.booleans(), st.booleans())
def test_a_damaged_file_is_read_or_refused_on_one_line(text, lenient, check_limits):
    start = time.process_time()
    try:
        result = pabulib.parse(text, lenient=lenient, check_limits=check_limits)
    except PabulibError as err:
        message = str(err)
        assert message and "\n" not in message and "\r" not in message
        assert len(message) < 400, message[:400]
    else:
        assert result.election.budget > 0
        for problem in (*result.skipped, *result.warnings):
            assert "\n" not in str(problem)
    assert time.process_time() - start < SECONDS_PER_EXAMPLE
