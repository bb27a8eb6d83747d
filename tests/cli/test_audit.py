"""`pb audit` on real election records built through the services, intact and tampered with."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pb import audit_command, record_format
from pb.services import records, voting
from pb.services.cycles import DistrictInput
from pb.tally import ApprovalBallot, Vote, pabulib
from tests.factories import PICKS, make_published_vote


@pytest.fixture(scope="module")
def key():
    return record_format.load_private_key(record_format.generate_key()[0])


_BUILT: dict[str, bytes] = {}  # one record per database backend: the tests only read it


@pytest.fixture
def record_file(request, database_url, key, tmp_path) -> Path:
    """The record of a Method of Equal Shares (Add1) vote, built through the services once per backend."""
    backend = database_url.split(":", 1)[0]
    if backend not in _BUILT:
        session = request.getfixturevalue("session")
        staff, now = request.getfixturevalue("staff"), request.getfixturevalue("now")
        cycle = make_published_vote(session, staff, now, PICKS, ballot_type="approval", tally_rule="mes",
                                 tally_completion="add1")
        _BUILT[backend] = records.build_record(session, cycle, key)
    path = tmp_path / "record.zip"
    path.write_bytes(_BUILT[backend])
    return path


def audit(path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = audit_command.main([str(path), *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def failed(output: str) -> set[str]:
    return {line[6:].split(":", 1)[0] for line in output.splitlines() if line.startswith("FAIL ")}


def public_key_file(key, tmp_path: Path) -> Path:
    path = tmp_path / "city.pub.pem"
    path.write_bytes(record_format.public_pem(key.public_key()))
    return path


# --- the intact record ------------------------------------------------------------------------


def test_an_intact_record_is_verified(record_file, key, tmp_path):
    code, out, err = audit(record_file, "--pubkey", str(public_key_file(key, tmp_path)))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[-1] == "VERIFIED"
    checks = [line.split(":", 1)[0].split(None, 1)[1] for line in lines[1:-1]]
    assert checks == ["signature", "hashes", "manifest", "log", "valid ballots", "ballot files",
                      "counted ballots", "tally", "certificate"]
    assert all(line.startswith("ok ") for line in lines[1:-1])
    assert "6 ballots count" in out  # 7 voters, one voided; the revised ballot replaced the first
    assert err == ""


def test_without_pubkey_the_key_inside_is_used_with_a_warning(record_file, key):
    code, out, err = audit(record_file)
    assert code == 0 and out.endswith("VERIFIED\n")
    assert "compare its fingerprint" in err and record_format.fingerprint(key.public_key()) in err


def test_the_record_holds_what_the_format_says(record_file, session):
    files = record_format.read_record(record_file.read_bytes())
    assert set(files) == {"manifest.json", "ballots-city.pb", "log.jsonl", "result.json", "SHA256SUMS",
                          "SHA256SUMS.sig", "public_key.pem"}
    manifest = record_format.Manifest.from_bytes(files["manifest.json"])
    assert manifest.config.tally_rule == "mes" and manifest.counted == 6
    assert [b.file for b in manifest.budgets] == ["ballots-city.pb"]
    election = pabulib.loads(files["ballots-city.pb"].decode())
    assert len(election.votes) == 6 and dict(election.meta)["rule"] == "equalshares/add1"
    assert {p.name for p in election.projects} >= {"Street lighting", "Crisis response team"}
    result = json.loads(files["result.json"])
    [count] = result["counts"]
    assert count["certificate"]["projects"] and count["explanation"][0].startswith("Every voter")
    kinds = Counter(json.loads(line)["entry"]["kind"] for line in files["log.jsonl"].splitlines())
    assert kinds == {"cast": 8, "void": 1, "close": 1}
    sums = files["SHA256SUMS"].decode().splitlines()
    assert [line.split("  ")[1] for line in sums] == sorted(set(files) - {"SHA256SUMS", "SHA256SUMS.sig"})


def test_district_budgets_give_one_ballots_file_each(session, staff, now, key, tmp_path):
    cycle = make_published_vote(
        session, staff, now, PICKS, ballot_type="approval", budget_cents=None,
        districts=[DistrictInput("North", "Nord", budget_cents=60_000_00),
                   DistrictInput("South", "Sud", budget_cents=50_000_00)],
    )
    path = tmp_path / "districts.zip"
    path.write_bytes(records.build_record(session, cycle, key))
    names = set(record_format.read_record(path.read_bytes()))
    assert {"ballots-north.pb", "ballots-south.pb"} <= names
    code, out, _ = audit(path)
    assert code == 0, out
    assert "skip  certificate" in out


@pytest.mark.parametrize(
    "settings",
    [
        {"ballot_type": "ranked", "ranking_length": 3, "tally_rule": "greedy", "tally_utility": "score"},
        {"ballot_type": "knapsack", "min_budget_share_percent": 10, "tally_rule": "greedy"},
        {"ballot_type": "cumulative", "points_per_voter": 5, "max_points_per_project": 3, "tally_rule": "mes",
         "tally_utility": "score"},
    ],
    ids=lambda settings: settings["ballot_type"],
)
def test_records_of_every_ballot_type_are_verified(settings, session, staff, now, key, tmp_path):
    cycle = make_published_vote(session, staff, now, PICKS, **settings)
    path = tmp_path / "record.zip"
    path.write_bytes(records.build_record(session, cycle, key))
    code, out, _ = audit(path)
    assert code == 0, out


def test_unreadable_input_exits_2(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert audit(bad)[0] == 2
    assert audit(tmp_path / "missing.zip")[0] == 2
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("hello.txt", "hi")
    code, _, err = audit(empty)
    assert code == 2 and "no manifest.json" in err


def test_cross_check_with_pabutools(record_file):
    try:
        import pabutools  # noqa: F401
    except ImportError:
        if os.environ.get("PB_REQUIRE_PABUTOOLS") == "1":  # .ci/run: the audit extra is installed
            pytest.fail("PB_REQUIRE_PABUTOOLS=1 but pabutools is not installed (pip install -e '.[audit]')")
        pytest.skip("pabutools is not installed (pip install -e '.[audit]')")
    code, out, _ = audit(record_file, "--cross-check")
    assert code == 0, out
    assert "ok    cross-check" in out


def test_cross_check_says_when_it_cannot_run(record_file, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pabutools(name, *args, **kwargs):
        if name.startswith("pabutools"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pabutools)
    code, out, _ = audit(record_file, "--cross-check")
    assert code == 0 and "skip  cross-check: pabutools is not installed" in out


# --- tampering ----------------------------------------------------------------------------------


def tampered(path: Path, change, tmp_path: Path, *, resign_with=None) -> Path:
    """A copy of the record with ``change(files)`` applied; with ``resign_with`` (a key), SHA256SUMS
    is recomputed and signed with it, and its public key put in the record."""
    files = record_format.read_record(path.read_bytes())
    change(files)
    if resign_with is not None:
        files[record_format.PUBLIC_KEY] = record_format.public_pem(resign_with.public_key())
        body = {k: v for k, v in files.items() if k not in (record_format.SUMS, record_format.SIGNATURE)}
        files[record_format.SUMS] = record_format.sha256sums(body)
        files[record_format.SIGNATURE] = resign_with.sign(files[record_format.SUMS])
    out = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


def change_pb_choice(files):
    """One ballot of the ballots file names another project (its votes column kept consistent)."""
    election = pabulib.loads(files["ballots-city.pb"].decode())
    first = election.votes[0]
    other = next(p.id for p in election.projects if p.id not in first.ballot.project_ids())
    votes = (Vote(first.voter_id, ApprovalBallot(frozenset({other}))), *election.votes[1:])
    supporters = Counter(pid for vote in votes for pid in vote.ballot.project_ids())
    projects = tuple(
        replace(p, extra=tuple((k, str(supporters[p.id]) if k == "votes" else v) for k, v in p.extra))
        for p in election.projects
    )
    files["ballots-city.pb"] = pabulib.dumps(replace(election, votes=votes, projects=projects)).encode()


def _log(files) -> list[dict]:
    return [json.loads(line) for line in files["log.jsonl"].splitlines()]


def _write_log(files, entries) -> None:
    files["log.jsonl"] = b"".join(
        json.dumps(e, sort_keys=True, separators=(",", ":")).encode() + b"\n" for e in entries
    )


def change_log_choice(files):
    entries = _log(files)
    cast = next(e for e in entries if e["entry"]["kind"] == "cast" and len(e["entry"]["choices"]["projects"]) > 1)
    cast["entry"]["choices"]["projects"] = cast["entry"]["choices"]["projects"][:1]
    _write_log(files, entries)


def delete_log_entry(files):
    entries = _log(files)
    del entries[2]
    _write_log(files, entries)


def reorder_log(files):
    entries = _log(files)
    entries[1], entries[2] = entries[2], entries[1]
    _write_log(files, entries)


def change_manifest_cost(files):
    manifest = json.loads(files["manifest.json"])
    manifest["projects"][0]["cost_cents"] += 100
    files["manifest.json"] = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def change_winner(files):
    result = json.loads(files["result.json"])
    outcome = result["counts"][0]["outcome"]
    loser = next(p["project_id"] for p in outcome["passed_over"])
    outcome["selected"] = [*outcome["selected"][:-1], loser]
    files["result.json"] = json.dumps(result, sort_keys=True, separators=(",", ":")).encode()


TAMPERING = {
    "a choice in the ballots file": (change_pb_choice, "counted ballots", "ballots-city.pb"),
    "a choice in the log": (change_log_choice, "log", "log.jsonl"),
    "a log entry deleted": (delete_log_entry, "log", "log.jsonl"),
    "log entries reordered": (reorder_log, "log", "log.jsonl"),
    "a cost in the manifest": (change_manifest_cost, "ballot files", "ballots-city.pb"),
    "a winner in the result": (change_winner, "tally", "result.json"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_without_new_sums_fails_the_hashes_and_the_check_it_breaks(case, record_file, key, tmp_path):
    change, check, file = TAMPERING[case]
    path = tampered(record_file, change, tmp_path)
    code, out, _ = audit(path, "--pubkey", str(public_key_file(key, tmp_path)))
    assert code == 1, out
    assert {"hashes", check} <= failed(out)
    assert "signature" not in failed(out)  # SHA256SUMS itself is intact
    assert out.splitlines()[-1].startswith("NOT VERIFIED")


@pytest.mark.parametrize("case", TAMPERING)
def test_tampering_with_new_sums_and_another_key_fails_the_check_it_breaks(case, record_file, key, tmp_path):
    change, check, file = TAMPERING[case]
    forger = record_format.load_private_key(record_format.generate_key()[0])
    path = tampered(record_file, change, tmp_path, resign_with=forger)
    code, out, _ = audit(path)  # the forger's key in the record: only the content checks can tell
    assert code == 1, out
    assert check in failed(out) and "hashes" not in failed(out)
    [line] = [line for line in out.splitlines() if line.startswith(f"FAIL  {check}:")]
    assert file in line
    code, out, _ = audit(path, "--pubkey", str(public_key_file(key, tmp_path)))  # the city's key
    assert code == 1 and {"signature", check} <= failed(out)


def test_a_log_rehashed_with_the_public_key_still_misses_the_published_head(record_file, tmp_path):
    def rewrite(files):
        entries = _log(files)
        cast = next(e for e in entries if e["entry"]["kind"] == "cast")
        cast["entry"]["choices"]["projects"] = cast["entry"]["choices"]["projects"][:1]
        head = "0" * 64
        for e in entries:
            from pb.hashchain import entry_hash

            e["prev"], e["hash"] = head, entry_hash(record_format.BALLOT_LOG_KEY, e["position"], head, e["entry"])
            head = e["hash"]
        _write_log(files, entries)

    forger = record_format.load_private_key(record_format.generate_key()[0])
    code, out, _ = audit(tampered(record_file, rewrite, tmp_path, resign_with=forger))
    assert code == 1 and "log" in failed(out)
    assert "manifest's head" in out


def test_an_entry_after_the_close_is_refused(record_file, tmp_path):
    def append(files):
        entries = _log(files)
        from pb.hashchain import entry_hash

        last = entries[-1]
        payload = {**entries[0]["entry"], "ballot": "f" * 32}
        entries.append({"position": last["position"] + 1, "prev": last["hash"], "entry": payload,
                        "hash": entry_hash(record_format.BALLOT_LOG_KEY, last["position"] + 1, last["hash"], payload)})
        _write_log(files, entries)

    code, out, _ = audit(tampered(record_file, append, tmp_path))
    assert code == 1 and "after the close entry" in out


def test_the_log_key_is_the_one_the_voting_service_uses():
    assert record_format.BALLOT_LOG_KEY == voting.BALLOT_LOG_KEY


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_only_on_a_terminal(record_file, monkeypatch):
    monkeypatch.setattr(audit_command, "PROGRESS_MIN_ENTRIES", 1)
    monkeypatch.setattr(audit_command, "PROGRESS_EVERY", 1)
    out, err = io.StringIO(), Terminal()
    assert audit_command.main([str(record_file)], out=out, err=err) == 0
    assert "\rlog [" in err.getvalue() and "\r\x1b[K" in err.getvalue()
    assert "\r" not in out.getvalue()
    plain = io.StringIO()
    assert audit_command.main([str(record_file)], out=io.StringIO(), err=plain) == 0
    assert "\r" not in plain.getvalue()


def test_usage_errors_exit_2(capsys):
    from pb import cli

    assert cli.main(["audit"]) == 2
    assert "pb audit:" in capsys.readouterr().err
