"""Agreement with pabutools 1.2.3 on 40 real elections, and with the real winners.

``reference_outcomes.json`` (next to the ``.pb`` files in ``PB_PABULIB_DIR``, default
``<repo>/../shared/pabulib``) holds pabutools' outcomes with its default tie-breaking (project
id compared as a string), i.e. our ``id`` tie-break. Each (instance, rule key) is its own test.
The reference drops the selection order (``selected_sort``: natural sort), so sets are compared.

If the folder is missing the tests are skipped, or fail when ``PB_REQUIRE_PABULIB=1``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

from pb.tally import TieBreak, tally
from pb.tally.certificate import verify_certificate

REPO = Path(__file__).resolve().parents[2]
PABULIB_DIR = Path(os.environ.get("PB_PABULIB_DIR") or REPO.parent / "shared" / "pabulib")
REFERENCE = PABULIB_DIR / "reference_outcomes.json"
REQUIRED = os.environ.get("PB_REQUIRE_PABULIB", "").strip().lower() not in ("", "0", "false", "no")

# reference key -> tally() arguments
RULE_KEYS: dict[str, dict] = {
    "greedy_cost": {"rule": "greedy", "utility": "cost"},
    "greedy_card": {"rule": "greedy", "utility": "cardinality"},
    "greedy_borda": {"rule": "greedy", "utility": "score"},
    "greedy_points": {"rule": "greedy", "utility": "score"},
    "greedy_points_score": {"rule": "greedy", "utility": "score-cost"},
    "mes_cost": {"rule": "mes", "utility": "cost"},
    "mes_card": {"rule": "mes", "utility": "cardinality"},
    "mes_borda": {"rule": "mes", "utility": "score"},
    "mes_points": {"rule": "mes", "utility": "score"},
    "mes_cost_util": {"rule": "mes", "utility": "cost", "completion": "greedy"},
    "mes_cost_add1": {"rule": "mes", "utility": "cost", "completion": "add1"},
    "mes_cost_add1_util": {"rule": "mes", "utility": "cost", "completion": "add1-greedy"},
    "seq_phragmen": {"rule": "phragmen"},
}
SKIPPED_KEYS = {"pb_ear", "cstv_ewt"}  # not stable references (see the README of the folder)

# The real winners, for the files whose META rule we implement.
FILE_RULES: dict[str, dict] = {
    "greedy": {"rule": "greedy", "utility": "cost"},
    "equalshares/add1": {"rule": "mes", "utility": "cost", "completion": "add1"},
}
NOT_REPRODUCIBLE = {"Poland_Wieliczka_2023_Green_Budget"}  # the city added a comparison step
KRAKOW_SCORES = (3, 2, 1)  # Kraków counts a ranking 3-2-1 and funds by total points


def _missing() -> None:
    message = f"pabulib folder {PABULIB_DIR} or its reference_outcomes.json is missing"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


def _reference() -> dict:
    try:
        return json.loads(REFERENCE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _cases() -> list:
    instances = _reference().get("instances", {})
    if not instances:
        return [pytest.param(None, None, id="pabulib-missing")]
    cases = []
    for name in sorted(instances):
        for key, result in sorted(instances[name]["rules"].items()):
            if key in SKIPPED_KEYS or result.get("status") != "ok":
                continue
            assert key in RULE_KEYS, f"unmapped reference key {key}"
            cases.append(pytest.param(name, key, id=f"{name}-{key}"))
    return cases


def _winner_cases() -> list:
    instances = _reference().get("instances", {})
    if not instances:
        return [pytest.param(None, id="pabulib-missing")]
    cases = []
    for name in sorted(instances):
        inst = instances[name]
        rule = inst["meta"].get("rule")
        if inst.get("file_selected") and rule in FILE_RULES and name not in NOT_REPRODUCIBLE:
            cases.append(pytest.param(name, id=name))
    return cases


@cache
def _election(name: str):
    from pb.tally.pabulib import load

    return load(PABULIB_DIR / f"{name}.pb", check_limits=False)


@pytest.mark.parametrize(("name", "key"), _cases())
def test_reference_outcome(name, key):
    if name is None:
        _missing()
    expected = _reference()["instances"][name]["rules"][key]
    election = _election(name)
    outcome = tally(election, tie_break=TieBreak.parse("id"), **RULE_KEYS[key])
    assert sorted(outcome.selected) == sorted(expected["selected"])
    assert str(outcome.total_cost) == expected["total_cost"]
    if outcome.certificate is not None:
        assert verify_certificate(election, outcome) == []


@pytest.mark.parametrize("name", _winner_cases())
def test_real_winners(name):
    if name is None:
        _missing()
    inst = _reference()["instances"][name]
    election = _election(name)
    kwargs = dict(FILE_RULES[inst["meta"]["rule"]])
    if name.startswith("Poland_Krakow"):
        kwargs = {"rule": "greedy", "utility": "score-cost", "scores": KRAKOW_SCORES}
    outcome = tally(election, tie_break=TieBreak.parse("id"), **kwargs)
    assert sorted(outcome.selected) == sorted(inst["file_selected"])
