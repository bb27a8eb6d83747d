"""``pb keys generate`` and ``pb record export``, then ``pb audit`` on what they wrote."""

from __future__ import annotations

import stat

from pb import cli as pb_cli
from pb import record_format
from pb.commands import cli
from tests.factories import PICKS, make_published_vote, make_voting_cycle


def test_keys_generate_writes_a_private_key_only_its_owner_reads(runner, tmp_path):
    result = runner.invoke(cli, ["keys", "generate", "--out", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    private = tmp_path / "keys" / "record_signing_key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = record_format.load_private_key(private.read_bytes())
    public = record_format.load_public_key((tmp_path / "keys" / "record_signing_key.pub.pem").read_bytes())
    assert record_format.fingerprint(public) == record_format.fingerprint(key.public_key())
    assert f"fingerprint {record_format.fingerprint(public)}" in result.output
    again = runner.invoke(cli, ["keys", "generate", "--out", str(tmp_path / "keys")])
    assert again.exit_code != 0 and "never overwritten" in again.output


def generate(runner, app):
    folder = str(app.config["SIGNING_KEY_PATH"]).rsplit("/", 1)[0]
    assert runner.invoke(cli, ["keys", "generate", "--out", folder]).exit_code == 0


def test_export_refuses_a_cycle_without_a_published_result(runner, app, session, staff, now, tmp_path):
    generate(runner, app)
    make_voting_cycle(session, staff, now=now, slug="open-vote")
    result = runner.invoke(cli, ["record", "export", "--cycle", "open-vote", "--out", str(tmp_path / "r.zip")])
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[-1] == (
        "Error: The cycle open-vote has no published result: its election record is made once the result is "
        "published."
    )
    assert not (tmp_path / "r.zip").exists()
    unknown = runner.invoke(cli, ["record", "export", "--cycle", "nope", "--out", str(tmp_path / "r.zip")])
    assert unknown.exit_code != 0 and "no cycle 'nope'" in unknown.output


def test_export_needs_the_signing_key(runner, session, staff, now, tmp_path):
    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    result = runner.invoke(cli, ["record", "export", "--cycle", "vote-cycle", "--out", str(tmp_path / "r.zip")])
    assert result.exit_code != 0 and "pb keys generate" in result.output


def test_export_then_audit(runner, app, session, staff, now, tmp_path, capsys):
    generate(runner, app)
    make_published_vote(session, staff, now, PICKS, ballot_type="approval")
    out = tmp_path / "record.zip"
    result = runner.invoke(cli, ["record", "export", "--cycle", "vote-cycle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    public = str(app.config["SIGNING_KEY_PATH"]).replace(".pem", ".pub.pem")
    assert pb_cli.main(["audit", str(out), "--pubkey", public]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "VERIFIED"
