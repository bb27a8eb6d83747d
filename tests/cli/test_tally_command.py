"""``pb tally``: the table, JSON, the explanation and one-line errors with exit status 2."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time

import pytest

from pb import tally_command
from pb.tally import report
from pb.tally_command import Progress, main

REPO = tally_command.__file__.rsplit("/pb/", 1)[0]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("pb tally: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# --- output -------------------------------------------------------------------------------


def test_table_lists_funded_projects_first_then_the_others(capsys, small_file):
    code, out, err = run(capsys, small_file)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["#", "project", "name", "cost", "supporters", "funded", "total", "note"]
    assert lines[2].split() == ["1", "a", "Park", "60", "5", "yes", "60"]
    assert lines[3].split() == ["2", "b", "Bench;", "painted", "30", "4", "yes", "90"]
    assert (
        lines[4].startswith("3  c")
        and "no" in lines[4]
        and "did not fit in what was left (10 left)" in lines[4]
    )
    assert lines[5].startswith("4  d") and "did not fit" in lines[5]
    summary = lines[-1]
    assert summary.startswith("Greedy (cost utility, tie-break cost")
    assert "2 of 4 projects funded, 90 of 100 spent (90.0%), 10 left; exhaustive" in summary


def test_json_has_the_outcome_with_exact_numbers_as_strings(capsys, small_file):
    document = run_json(capsys, small_file, "--tie-break", "id")
    assert document["selected"] == ["a", "b"]
    assert document["total_cost"] == "90"
    assert document["budget"] == "100"
    assert document["exhaustive"] is True
    assert document["rule"] == "greedy"
    assert document["utility"] == "cost"
    assert document["completion"] == "none"
    assert document["tie_break"]["method"] == "id"
    assert document["voters"] == 7
    assert document["skipped_ballots"] == 0
    assert document["rounds"][0] == {
        "number": 1,
        "project_id": "a",
        "name": "Park",
        "phase": "main",
        "cost": "60",
        "supporters": 5,
        "score": "5",
        "price_per_voter": None,
        "payers": None,
        "voter_share": None,
        "load": None,
        "tied_with": [],
    }
    assert [p["project_id"] for p in document["passed_over"]] == ["c", "d"]
    assert document["passed_over"][0]["budget_left"] == "10"
    assert "explanation" not in document


def test_mes_json_rounds_carry_prices(capsys, small_file):
    document = run_json(capsys, small_file, "--rule", "mes", "--completion", "add1", "--tie-break", "id")
    assert document["rule"] == "mes"
    assert document["completion"] == "add1"
    assert sum(int(r["cost"]) for r in document["rounds"]) == int(document["total_cost"])
    assert all(r["price_per_voter"] is not None for r in document["rounds"] if r["phase"] == "main")


def test_explain_adds_sentences(capsys, small_file):
    code, out, _ = run(capsys, small_file, "--explain")
    assert code == 0
    assert "Round 1: a “Park” was funded for 60; 5 voters supported it. Spent so far 60, 40 left." in out
    assert (
        "Round 2: b “Bench; painted” was funded for 30; 4 voters supported it. Spent so far 90, 10 left."
        in out
    )
    assert "c “Lamp” (20, 3 supporters) was not funded: did not fit in what was left (10 left)." in out


def test_explain_with_json_adds_an_explanation_list(capsys, small_file):
    document = run_json(capsys, small_file, "--explain")
    assert any(line.startswith("Round 1: a") for line in document["explanation"])


def test_points_ballots_default_to_total_score(capsys, cumulative_file):
    document = run_json(capsys, cumulative_file)
    assert document["utility"] == "score-cost"
    assert document["selected"] == ["q"]  # 5 points against 1
    assert run_json(capsys, cumulative_file, "--rule", "mes")["utility"] == "score"


def test_lenient_skips_and_says_so(capsys, small_file):
    small_file.write_text(small_file.read_text().replace("7;c,d", "7;c,zz"))
    code, out, err = run(capsys, small_file, "--lenient")
    assert (code, err) == (0, "")
    assert "1 invalid ballot skipped (--lenient); 6 counted." in out
    assert run_json(capsys, small_file, "--lenient")["skipped_ballots"] == 1


def test_ignore_limits(capsys, small_file):
    small_file.write_text(small_file.read_text().replace("7;c,d", "7;a,b,c,d"))
    assert_one_line_error(*run(capsys, small_file), "line 23: voter 7: 4 projects, more than max_length 3")
    assert run_json(capsys, small_file, "--ignore-limits")["voters"] == 7


def test_runs_as_a_module(small_file):
    done = subprocess.run(
        [sys.executable, "-m", "pb.tally_command", str(small_file), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["selected"] == ["a", "b"]
    done = subprocess.run(
        [sys.executable, "-m", "pb.tally_command", str(small_file) + ".missing"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "No such file or directory" in done.stderr


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "usage: pb tally" in capsys.readouterr().out


# --- errors: one line on stderr, exit status 2 ----------------------------------------


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.pb"
    assert_one_line_error(*run(capsys, missing), str(missing), "No such file or directory")


def test_bad_line_names_file_line_and_voter(capsys, small_file):
    small_file.write_text(small_file.read_text().replace("3;a,b,c", "3;a,zz"))
    assert_one_line_error(*run(capsys, small_file), str(small_file), "line 19: voter 3: unknown project 'zz'")


def test_structural_problem(capsys, small_file):
    small_file.write_text(small_file.read_text().replace("c;20;Lamp", "c;twenty;Lamp"))
    assert_one_line_error(*run(capsys, small_file), "line 13: project 'c': cost: not a number: 'twenty'")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--rule", "bogus"], "invalid choice: 'bogus'"),
        (["--utility", "joy"], "invalid choice: 'joy'"),
        (["--seed", "x"], "not a whole number"),
        (["--threshold", "lots"], "--threshold: not a number"),
        (["--scores", "3,x"], "--scores: expected borda or whole numbers"),
        (["--scores", "3,2,1"], "a score vector applies to ranked ballots only"),
        (["--rule", "greedy", "--completion", "add1"], "takes no completion"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_options(capsys, small_file, options, fragment):
    assert_one_line_error(*run(capsys, small_file, *options), fragment)


def test_no_file_given(capsys):
    assert_one_line_error(*run(capsys), "required: FILE.pb")


def test_phragmen_refuses_points_ballots(capsys, cumulative_file):
    assert_one_line_error(
        *run(capsys, cumulative_file, "--rule", "phragmen"),
        str(cumulative_file),
        "does not accept cumulative ballots",
    )


def test_refused_tie(capsys, tie_file):
    assert_one_line_error(*run(capsys, tie_file, "--tie-break", "refuse"), "unresolved tie between x, y")
    assert run_json(capsys, tie_file, "--tie-break", "id")["selected"] == ["x"]


# --- progress -------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_progress_when_stderr_is_not_a_terminal(capsys, small_file):
    assert run(capsys, small_file)[2] == ""
    assert not Progress("x", io.StringIO()).enabled


def test_progress_shows_on_a_terminal_after_the_delay_and_is_cleared():
    stream = FakeTerminal()
    with Progress("counting", stream, delay=0.01):
        time.sleep(0.3)
    text = stream.getvalue()
    assert "counting" in text
    assert text.endswith("\r\x1b[K")


def test_progress_stays_silent_for_quick_work():
    stream = FakeTerminal()
    with Progress("counting", stream, delay=5):
        pass
    assert stream.getvalue() == ""


# --- a real election ----------------------------------------------------------------------


def test_real_file_matches_the_reference(capsys, pabulib_dir):
    reference = json.loads((pabulib_dir / "reference_outcomes.json").read_text(encoding="utf-8"))
    stem = "Poland_Warszawa_2017_Plac_Wojska_Polskiego"
    document = run_json(capsys, pabulib_dir / f"{stem}.pb", "--tie-break", "id")
    expected = reference["instances"][stem]["rules"]["greedy_cost"]
    assert sorted(document["selected"]) == sorted(expected["selected"])
    assert document["total_cost"] == expected["total_cost"]


def test_needs_neither_flask_nor_a_database():
    code = (
        "import sys, pb.tally_command; print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


# --- an auditor's tool: hostile files and the file's own claims ----------------------------


@pytest.mark.parametrize("budget", ["1e10000000", "1e99999999", "1e-1000000", "1e5000", "-5", "0"])
def test_hostile_or_impossible_budget_is_one_line_at_once(capsys, small_file, budget):
    small_file.write_text(small_file.read_text().replace("budget;100", f"budget;{budget}"))
    start = time.process_time()
    code, out, err = run(capsys, small_file)
    assert time.process_time() - start < 1
    assert_one_line_error(code, out, err, "line 6: budget")
    assert "Exceeds the limit" not in err
    assert ("out of range" in err) or ("must be positive" in err)


def test_a_file_cut_short_is_refused_and_lenient_warns(capsys, small_file):
    small_file.write_text(small_file.read_text().replace("7;c,d\n", ""))
    assert_one_line_error(
        *run(capsys, small_file), "line 5: META says num_votes 7 but the file has 6 ballots"
    )
    code, out, err = run(capsys, small_file, "--lenient")
    assert code == 0 and out
    assert (
        err == f"pb tally: {small_file}: warning: line 5: META says num_votes 7 but the file has 6 ballots\n"
    )
    document = json.loads(main_json_lenient(capsys, small_file))
    assert document["warnings"] == ["line 5: META says num_votes 7 but the file has 6 ballots"]


def main_json_lenient(capsys, path) -> str:
    assert main([str(path), "--lenient", "--json"]) == 0
    return capsys.readouterr().out


def test_json_carries_the_file_hash_and_pb_version(capsys, small_file):
    document = run_json(capsys, small_file)
    assert document["sha256"] == hashlib.sha256(small_file.read_bytes()).hexdigest()
    assert document["pb_version"] and document["pb_version"] == report.pb_version()
    assert "official" not in document and document["currency"] is None


def test_money_shows_the_currency_and_counts_their_plural(capsys, small_file):
    text = small_file.read_text().replace("budget;100", "budget;100\ncurrency;EUR").replace("7;c,d", "7;d")
    small_file.write_text(text.replace("3;a,b,c", "3;a,b"))  # c now has 1 supporter
    code, out, _ = run(capsys, small_file, "--explain")
    assert code == 0
    assert out.splitlines()[0].split()[3:5] == ["cost", "(EUR)"]
    assert "90 of 100 EUR spent (90.0%), 10 EUR left" in out
    assert "c “Lamp” (20 EUR, 1 supporter) was not funded: did not fit in what was left (10 EUR left)." in out
    assert "Round 1: a “Park” was funded for 60 EUR; 5 voters supported it." in out


def test_add1_note_shows_decimals_not_fractions(capsys, small_file):
    document = run_json(capsys, small_file, "--rule", "mes", "--completion", "add1", "--explain")
    note = document["notes"][0]
    assert note.startswith("Add1 raised each voter's share from ≈14.29 to ")  # 100/7
    assert "/" not in note


SELECTED = {"a": 1, "b": 0, "c": 1, "d": 0}


def _with_selected(path, rule: str | None, selected: dict[str, int]) -> None:
    text = path.read_text().replace("project_id;cost;name", "project_id;cost;name;selected")
    for pid, value in selected.items():
        start = text.index(f"\n{pid};") + 1
        end = text.index("\n", start)
        text = text[:end] + f";{value}" + text[end:]
    if rule is not None:
        text = text.replace("vote_type;approval", f"vote_type;approval\nrule;{rule}")
    path.write_text(text)


def test_official_result_differences_are_listed(capsys, small_file):
    _with_selected(small_file, "greedy", SELECTED)
    code, out, err = run(capsys, small_file, "--rule-from-file")
    assert (code, err) == (0, "")
    assert "Rule from the file's META: greedy." in out
    assert "Official result (the file's selected column, 2 projects): DIFFERS." in out
    assert "  funded here, not officially: b “Bench; painted” (30)" in out
    assert "  funded officially, not here: c “Lamp” (20)" in out
    document = run_json(capsys, small_file, "--rule-from-file")
    assert document["official"] == {
        "matches": False,
        "selected": ["a", "c"],
        "only_here": ["b"],
        "only_official": ["c"],
    }
    assert document["rule_from_file"] == "greedy"


def test_official_result_is_compared_with_any_rule(capsys, small_file):
    _with_selected(small_file, None, {"a": 1, "b": 1, "c": 0, "d": 0})
    code, out, _ = run(capsys, small_file)
    assert "Official result (the file's selected column): matches, the same 2 projects." in out
    assert run_json(capsys, small_file)["official"]["matches"] is True


def test_a_selected_column_that_is_not_0_or_1_is_refused(capsys, small_file):
    _with_selected(small_file, None, {"a": 1, "b": 2, "c": 0, "d": 0})
    assert_one_line_error(*run(capsys, small_file), "selected column is '2', expected 0 or 1")


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("unknown", "the file's META rule 'unknown' is not one pb can reproduce"),
        ("greedy-custom", "'greedy-custom' is not one pb can reproduce"),
        ("borda-count", "the file's META rule 'borda-count' is not one pb knows"),
        ("greedy-threshold", "META has no min_project_score_threshold"),
    ],
)
def test_rule_from_file_refuses_rules_it_cannot_reproduce(capsys, small_file, rule, fragment):
    _with_selected(small_file, rule, SELECTED)
    assert_one_line_error(*run(capsys, small_file, "--rule-from-file"), fragment)


def test_rule_from_file_needs_a_rule(capsys, small_file):
    assert_one_line_error(*run(capsys, small_file, "--rule-from-file"), "the file's META has no rule")
    assert_one_line_error(
        *run(capsys, small_file, "--rule-from-file", "--rule", "mes"), "--rule-from-file and --rule exclude"
    )


def _official_cases() -> list:
    from tests.cli.conftest import PABULIB_DIR

    names = [
        "Netherlands_Assen_2024",
        "Poland_Czestochowa_2025_Tysiaclecie",
        "Poland_Gdynia_2020_Leszczynki__small",
        "Poland_Katowice_2021_Dab",
        "Poland_Katowice_2023",
        "Poland_Krakow_2023_Nowa_Huta",
        "Poland_Lodz_2022",
        "Poland_Swiecie_2023",
        "Poland_Warszawa_2017_Plac_Wojska_Polskiego",
        "Poland_Wroclaw_2023",
    ]
    return [pytest.param(name, id=name) for name in names if PABULIB_DIR.is_dir() or name == names[0]]


@pytest.mark.parametrize("name", _official_cases())
def test_rule_from_file_reproduces_the_real_winners(capsys, pabulib_dir, name):
    """Greedy, no-skip (Wrocław, Gdynia), thresholds (Łódź, Katowice, Częstochowa), Kraków's 3-2-1 and Add1."""
    document = run_json(capsys, pabulib_dir / f"{name}.pb", "--rule-from-file")
    assert document["official"]["matches"] is True, document["official"]
    assert sorted(document["selected"]) == sorted(document["official"]["selected"])


def test_rule_from_file_refuses_wieliczka_by_name(capsys, pabulib_dir):
    path = pabulib_dir / "Poland_Wieliczka_2023_Green_Budget.pb"
    assert_one_line_error(*run(capsys, path, "--rule-from-file"), "'equalshares/add1-comparison'")
