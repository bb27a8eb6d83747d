"""The Lakeview demo loads, stays in the right phases, and can be loaded twice."""

from __future__ import annotations

from sqlalchemy import func, select

from pb.commands import cli
from pb.db import utcnow
from pb.demo import load_demo
from pb.models import AuditLogEntry, Cycle, Phase, Role, User
from pb.passwords import verify_password
from pb.services.accounts import find_user_by_email
from pb.services.audit import verify_chain


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_demo_loads_twice_without_duplicates(session):
    sign_ins = load_demo(session, "secret")
    session.commit()
    counts = (count(session, User), count(session, Cycle), count(session, AuditLogEntry))
    assert load_demo(session, "secret") == sign_ins
    session.commit()
    assert (count(session, User), count(session, Cycle), count(session, AuditLogEntry)) == counts
    assert counts[:2] == (12, 3)  # 5 sign-ins and 7 residents who propose; 3 cycles
    assert verify_chain(session).intact


def test_demo_accounts_can_sign_in_with_their_roles(session):
    sign_ins = load_demo(session, "secret")
    session.commit()
    assert {role for role, _email, _password in sign_ins} == {"admin", "staff", "auditor", "delegate", "resident"}
    for role, email, password in sign_ins:
        user = find_user_by_email(session, email)
        assert verify_password(user.password_hash, password)
        assert Role(role) in user.roles


def test_demo_cycles_are_in_their_phases(session):
    load_demo(session, "secret")
    session.commit()
    now = utcnow()
    current = session.scalars(select(Cycle).where(Cycle.slug == "lakeview-2026")).one()
    past = session.scalars(select(Cycle).where(Cycle.slug == "lakeview-2025")).one()
    assert current.phase_state(now).current is Phase.PROPOSALS
    assert current.has_district_budgets and current.total_budget_cents == 1_000_000_00
    assert [d.name("fr_CA") for d in current.districts][:2] == ["Secteur du Port", "Porte-du-Nord"]
    assert len(current.categories) == 5
    assert past.phase_state(now).current is Phase.RESULTS
    assert past.results_start_at < now
    assert past.budget_cents == 500_000_00


def test_demo_pages_render(client, session):
    load_demo(session, "secret")
    session.commit()
    home = client.get("/", headers={"Accept-Language": "fr-CA"})
    assert "Budget participatif de sécurité communautaire de Lakeview 2026" in home.text
    page = client.get("/cycles/lakeview-2026", headers={"Accept-Language": "en-CA"})
    assert page.status_code == 200
    assert "$1,000,000.00" in page.text
    assert "Harbourfront" in page.text


def test_the_demo_command_refuses_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code != 0
    assert "never runs in production" in result.output


def test_the_demo_command_prints_the_sign_ins(runner):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@lakeview.example.org" in result.output


def test_demo_proposals_cover_every_status_in_both_languages(session):
    from pb.models import Proposal, ProposalStatus
    from pb.services.cycles import get_cycle

    load_demo(session, "secret")
    session.commit()
    lakeview = get_cycle(session, "lakeview-2026")
    proposals = session.scalars(select(Proposal).where(Proposal.cycle_id == lakeview.id)).all()
    assert len(proposals) >= 25
    statuses = {p.status for p in proposals}
    assert statuses == set(ProposalStatus)
    assert sum(p.support_count for p in proposals) > 50 and sum(p.comment_count for p in proposals) > 10
    assert {p.language for p in proposals} == {"en", "fr"}
    assert all(step.at <= utcnow() for p in proposals for step in p.history)
    merged = next(p for p in proposals if p.status is ProposalStatus.MERGED)
    assert merged.merged_into is not None and merged.merged_into.cycle_id == lakeview.id
    deliberating = get_cycle(session, "northgate-youth-2026")
    assert deliberating.phase_state(utcnow()).current is Phase.REVIEW
    assert session.scalar(select(func.count(Proposal.id)).where(Proposal.cycle_id == deliberating.id)) >= 4


def test_demo_decided_proposals_have_their_confirmed_reviews(session):
    from pb.models import Proposal, ProposalStatus, Review

    load_demo(session, "secret")
    session.commit()
    decided = session.scalar(
        select(func.count(Proposal.id)).where(
            Proposal.status.in_((ProposalStatus.FEASIBLE, ProposalStatus.NOT_FEASIBLE, ProposalStatus.ON_BALLOT))
        )
    )
    reviews = session.scalars(select(Review)).all()
    assert decided and len(reviews) == decided
    assert all(r.is_confirmed for r in reviews)
    assert all(r.public_reason for r in reviews if r.feasibility == "not_feasible")
    load_demo(session, "secret")
    session.commit()
    assert count(session, Review) == decided
