"""From a resident's proposal to an audited election record: proposal, review, ballot project, voting
on the site with codes, the count published, the signed record downloaded and checked offline."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from pb import audit_command, record_format
from pb.models import ProposalStatus
from pb.services import eligibility, projects, results, review
from tests.factories import create_account, make_cycle, make_proposal


def hidden_nonce(html: str) -> str:
    field = re.search(r'<input[^>]*name="nonce"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


@pytest.mark.parametrize("ballot_type", ["approval", "knapsack"])
def test_a_proposal_becomes_a_funded_project_in_an_audited_record(app, client, session, tmp_path, ballot_type):
    from pb.db import utcnow

    def at(moment):
        app.extensions["pb.clock"] = lambda: moment

    start = utcnow().replace(second=0, microsecond=0)
    staff = create_account(session, "staff@example.org", roles=["staff"])
    author = create_account(session, "author@example.org")
    cycle = make_cycle(session, staff, now=start, slug="e2e", phase="proposals", ballot_type=ballot_type)

    # Proposals: two residents' ideas, reviewed feasible and made ballot projects during review.
    ideas = [
        make_proposal(session, author, cycle, now=start, title="Night bus stop lighting"),
        make_proposal(session, author, cycle, now=start, title="Youth drop-in evenings"),
    ]
    during_review = cycle.review_start_at + timedelta(days=1)
    made = []
    for proposal, cost in zip(ideas, (30_000_00, 60_000_00), strict=True):
        review.draft_review(session, staff, proposal, review.ReviewInput(feasibility="feasible", cost_estimate_cents=cost), during_review)
        review.confirm_review(session, staff, proposal, during_review)
        made.append(
            projects.create_project(
                session, staff, cycle,
                projects.ProjectInput(
                    title_en=proposal.title, title_fr=f"{proposal.title} (fr)", description_en="From a resident.",
                    description_fr="D’une personne résidente.", cost_cents=cost, district_id=None, category_id=None,
                ),
                during_review, [proposal.id],
            )
        )
    session.commit()
    assert all(p.status is ProposalStatus.ON_BALLOT for p in ideas)

    # Voting on the site: three code voters; two choose the lighting, one the drop-in.
    during = cycle.voting_start_at + timedelta(hours=2)
    at(during)
    batch = eligibility.create_code_batch(session, staff, cycle, 3, None, "Library", during)
    session.commit()
    for code, chosen in zip(batch.codes, (made[0], made[0], made[1]), strict=True):
        ballot = client.post(f"/cycles/{cycle.slug}/vote/code", data={"code": code})  # answered with the ballot
        assert ballot.status_code == 200
        form = {"nonce": hidden_nonce(ballot.text), "project": [str(chosen.id)]}
        assert "Cast my ballot" in client.post(f"/cycles/{cycle.slug}/ballot", data={**form, "action": "review"}).text
        cast = client.post(f"/cycles/{cycle.slug}/ballot", data={**form, "action": "cast"})  # and the receipt
        assert cast.status_code == 200 and "will be counted" in cast.text
        assert "will be counted" in client.get(f"/cycles/{cycle.slug}/ballot/cast").text
    assert "3 ballots count so far." in client.get(f"/cycles/{cycle.slug}").text

    # Voting closes; staff count and publish; the results page shows the funded project.
    after = cycle.voting_end_at + timedelta(hours=1)
    at(after)
    assert "not published yet" in client.get(f"/cycles/{cycle.slug}/results").text
    assert client.get(f"/cycles/{cycle.slug}/record.zip").status_code == 404
    results.publish_result(session, staff, results.draft_result(session, staff, cycle, after), after)
    session.commit()
    page = client.get(f"/cycles/{cycle.slug}/results").text
    assert "Night bus stop lighting" in page

    # The signed election record, downloaded and checked offline.
    private, public = record_format.generate_key()
    (tmp_path / "key.pem").write_bytes(private)
    (tmp_path / "key.pub.pem").write_bytes(public)
    app.config["SIGNING_KEY_PATH"] = str(tmp_path / "key.pem")
    app.config["RECORD_FOLDER"] = str(tmp_path / "records")
    download = client.get(f"/cycles/{cycle.slug}/record.zip")
    assert download.status_code == 200
    (tmp_path / "e2e.zip").write_bytes(download.data)
    out, err = io.StringIO(), io.StringIO()
    code = audit_command.main([str(tmp_path / "e2e.zip"), "--pubkey", str(tmp_path / "key.pub.pem")], out=out, err=err)
    assert code == 0, out.getvalue() + err.getvalue()
    assert out.getvalue().rstrip().endswith("VERIFIED")
    assert "3 ballots" in out.getvalue() or "3 counted" in out.getvalue()
