"""The discussion under a proposal on the web: every form, who may use it, and what the page shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb.db import utcnow
from pb.models import AuditLogEntry, Comment, Flag, Follow, Proposal, Support, User
from pb.services import deliberation, moderation
from tests.factories import make_proposal

ENGLISH = {"Accept-Language": "en-CA"}


@pytest.fixture
def cycle(make_cycle, session):
    cycle = make_cycle(phase="proposals")
    cycle.deliberation_during_proposals = True
    session.commit()
    return cycle


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("author@example.org", display_name="Amina Author"),
        "resident": make_user("resident@example.org", display_name="Rémi Resident"),
        "staff": make_user("staff@example.org", display_name="Sam Staff", roles=["staff"]),
    }


@pytest.fixture
def proposal(session, people, cycle):
    return make_proposal(session, people["author"], cycle)


def page_of(proposal) -> str:
    return f"/cycles/{proposal.cycle.slug}/proposals/{proposal.id}"


def add_comment(session, user, proposal, body="A first comment", parent=None, language="en"):
    comment = deliberation.add_comment(session, user, proposal, body, language, utcnow(), parent=parent)
    session.commit()
    return comment


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_resident_comments_and_the_text_is_shown_as_text_in_its_language(client, session, log_in, people, proposal):
    log_in(people["resident"])
    response = client.post(
        page_of(proposal) + "/comments/new",
        data={"body": "<script>alert(1)</script> Plus de lumière", "language": "fr"},
    )
    comment = session.scalars(select(Comment)).one()
    assert response.status_code == 302
    assert response.location.endswith(f"{page_of(proposal)}#comment-{comment.id}")
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Plus de lumière" in page and "<script>alert" not in page
    assert 'class="comment-body" lang="fr-CA"' in page
    assert f'id="comment-{comment.id}"' in page
    session.expire_all()
    assert session.get(Proposal, proposal.id).comment_count == 1


def test_an_empty_comment_is_shown_again_with_the_error(client, session, log_in, people, proposal):
    log_in(people["resident"])
    response = client.post(page_of(proposal) + "/comments/new", data={"body": "  ", "language": "en"}, headers=ENGLISH)
    assert response.status_code == 200 and 'class="error-summary"' in response.text
    assert "Write your comment." in response.text
    assert count(session, Comment) == 0


def test_fields_not_on_the_form_are_ignored(client, session, log_in, people, proposal):
    log_in(people["resident"])
    client.post(
        page_of(proposal) + "/comments/new",
        data={
            "body": "Mine",
            "language": "en",
            "author_id": str(people["staff"].id),
            "hidden_at": "2026-01-01T00:00",
            "parent_id": "1",
            "proposal_id": "999",
        },
    )
    comment = session.scalars(select(Comment)).one()
    assert (comment.author_id, comment.parent_id, comment.hidden_at, comment.proposal_id) == (
        people["resident"].id, None, None, proposal.id
    )


def test_replies_stay_one_level_deep(client, session, log_in, people, proposal):
    top = add_comment(session, people["resident"], proposal)
    reply = add_comment(session, people["author"], proposal, "A reply", parent=top)
    log_in(people["resident"])
    response = client.post(
        page_of(proposal) + f"/comments/{reply.id}/reply", data={"body": "Answering the reply", "language": "en"}
    )
    assert response.status_code == 302
    newest = session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert newest.parent_id == top.id
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert page.count('class="replies"') == 1 and "Reply to this comment" in page


def test_the_author_edits_a_comment_within_15_minutes_and_nobody_else_can(
    app, client, session, log_in, people, proposal
):
    comment = add_comment(session, people["resident"], proposal, "Teh lights")
    edit = page_of(proposal) + f"/comments/{comment.id}/edit"
    log_in(people["author"])
    assert client.get(edit).status_code == 403
    assert client.post(edit, data={"body": "Not mine"}).status_code == 403
    log_in(people["resident"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert f'href="{edit}"' in page
    assert "Teh lights" in client.get(edit).text
    assert client.post(edit, data={"body": "The lights"}).status_code == 302
    session.expire_all()
    assert session.get(Comment, comment.id).body == "The lights"

    later = utcnow() + timedelta(minutes=16)
    app.extensions["pb.clock"] = lambda: later
    log_in(people["resident"])
    response = client.post(edit, data={"body": "Too late"}, headers=ENGLISH)
    assert response.status_code == 200 and "that time is over" in response.text
    assert f'href="{edit}"' not in client.get(page_of(proposal), headers=ENGLISH).text
    session.expire_all()
    assert session.get(Comment, comment.id).body == "The lights"


def test_another_proposals_or_cycles_comment_is_not_found(client, session, log_in, people, proposal, make_cycle):
    other_cycle = make_cycle(slug="other-cycle", phase="proposals")
    elsewhere = make_proposal(session, people["author"], other_cycle)
    comment = deliberation.add_comment(session, people["resident"], proposal, "Here", "en", utcnow())
    session.commit()
    log_in(people["resident"])
    for path in (
        f"/cycles/other-cycle/proposals/{proposal.id}/comments/{comment.id}/edit",
        f"/cycles/other-cycle/proposals/{proposal.id}/comments/new",
        f"/cycles/other-cycle/proposals/{elsewhere.id}/comments/{comment.id}/reply",
        f"/cycles/test-cycle/proposals/{proposal.id}/comments/{comment.id + 100}/report",
    ):
        assert client.get(path).status_code == 404, path


def test_a_hidden_comment_shows_the_reason_and_its_pages_are_not_found_for_others(
    client, session, log_in, people, proposal
):
    comment = add_comment(session, people["author"], proposal, "Rude words")
    moderation.hide_comment(session, people["staff"], comment, "Insults", utcnow())
    session.commit()
    log_in(people["resident"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "Hidden by moderators: Insults" in page and "Rude words" not in page
    for action in ("reply", "report"):
        assert client.get(page_of(proposal) + f"/comments/{comment.id}/{action}").status_code == 404
    log_in(people["author"])
    assert "Rude words" in client.get(page_of(proposal), headers=ENGLISH).text
    log_in(people["staff"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "Rude words" in page and "Show the comment again" in page


def test_a_hidden_proposal_shows_no_discussion_and_its_pages_are_not_found_for_others(
    client, session, log_in, people, proposal
):
    add_comment(session, people["resident"], proposal, "A comment on it")
    moderation.hide_proposal(session, people["staff"], proposal, "Personal information", utcnow())
    session.commit()
    log_in(people["resident"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "Personal information" in page and "A comment on it" not in page
    assert client.get(page_of(proposal) + "/comments/new").status_code == 404
    assert client.post(page_of(proposal) + "/support").status_code == 404
    log_in(people["author"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "A comment on it" in page and "Support this proposal" not in page


def test_support_withdraw_and_a_double_click(client, session, log_in, people, proposal):
    assert client.post(page_of(proposal) + "/support").status_code == 302  # to the sign-in page
    assert count(session, Support) == 0
    log_in(people["resident"])
    for _ in range(2):
        response = client.post(page_of(proposal) + "/support")
        assert response.status_code == 302 and response.location.endswith("#support")
    assert count(session, Support) == 1
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "1 person supports this proposal." in page and "Withdraw my support" in page
    client.post(page_of(proposal) + "/support/withdraw")
    assert count(session, Support) == 0
    assert "0 people support this proposal." in client.get(page_of(proposal), headers=ENGLISH).text


def test_support_outside_the_phase_is_refused_with_the_reason(client, session, log_in, people, proposal):
    proposal.cycle.deliberation_during_proposals = False
    session.commit()
    log_in(people["resident"])
    page = client.post(page_of(proposal) + "/support", headers=ENGLISH, follow_redirects=True).text
    assert "Comments and supports open when the review phase starts." in page
    assert count(session, Support) == 0
    assert "Support this proposal" not in page


def test_follow_and_unfollow(client, session, log_in, people, proposal):
    log_in(people["resident"])
    client.post(page_of(proposal) + "/follow")
    assert count(session, Follow, Follow.user_id == people["resident"].id) == 1
    assert "Stop following" in client.get(page_of(proposal), headers=ENGLISH).text
    client.post(page_of(proposal) + "/unfollow")
    assert count(session, Follow, Follow.user_id == people["resident"].id) == 0


def test_reports_on_a_proposal_and_a_comment(client, session, log_in, people, proposal):
    comment = add_comment(session, people["author"], proposal, "Rude words")
    log_in(people["resident"])
    response = client.post(page_of(proposal) + "/report", data={"reason": ""}, headers=ENGLISH)
    assert response.status_code == 200 and 'class="error-summary"' in response.text
    assert client.post(page_of(proposal) + "/report", data={"reason": "Spam"}).status_code == 302
    assert client.post(page_of(proposal) + f"/comments/{comment.id}/report", data={"reason": "Rude"}).status_code == 302
    response = client.post(page_of(proposal) + "/report", data={"reason": "Again"}, headers=ENGLISH)
    assert "You have already reported this" in response.text
    assert sorted(session.scalars(select(Flag.reason))) == ["Rude", "Spam"]
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "You have reported this proposal" in page and "You have reported this comment." in page


def test_staff_moderate_from_the_page_and_residents_cannot(client, session, log_in, people, proposal):
    comment = add_comment(session, people["resident"], proposal, "Rude words")
    log_in(people["resident"])
    assert "Hide this comment" not in client.get(page_of(proposal), headers=ENGLISH).text
    assert client.post(page_of(proposal) + f"/comments/{comment.id}/hide", data={"reason": "x"}).status_code == 403
    assert client.post(page_of(proposal) + "/hide", data={"reason": "x"}).status_code == 403

    log_in(people["staff"])
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "Hide this comment" in page and "Hide this proposal" in page
    response = client.post(page_of(proposal) + f"/comments/{comment.id}/hide", data={"reason": ""}, headers=ENGLISH)
    assert response.status_code == 200 and "Give the public reason" in response.text
    response = client.post(page_of(proposal) + f"/comments/{comment.id}/hide", data={"reason": "Insults"})
    assert response.location.endswith(f"#comment-{comment.id}")
    client.post(page_of(proposal) + "/hide", data={"reason": "<b>Spam</b>"})
    page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "&lt;b&gt;Spam&lt;/b&gt;" in page and "Show the proposal again" in page
    client.post(page_of(proposal) + "/restore", data={"reason": "Fixed"})
    client.post(page_of(proposal) + f"/comments/{comment.id}/restore")
    session.expire_all()
    assert not session.get(Proposal, proposal.id).is_hidden and not session.get(Comment, comment.id).is_hidden
    assert [e.action for e in session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))][-4:] == [
        "comment.hide", "proposal.hide", "proposal.restore", "comment.restore"
    ]


def test_the_moderation_queue_links_to_the_page_of_the_problem(client, session, log_in, people, proposal):
    comment = add_comment(session, people["author"], proposal, "Rude words")
    deliberation.flag_comment(session, people["resident"], comment, "Insulting <i>me</i>", utcnow())
    session.commit()
    log_in(people["resident"])
    assert client.get("/staff/moderation").status_code == 403
    log_in(people["staff"])
    page = client.get("/staff/moderation", headers=ENGLISH).text
    assert f'href="{page_of(proposal)}#comment-{comment.id}"' in page
    assert "Insulting &lt;i&gt;me&lt;/i&gt;" in page
    assert client.get("/staff/moderation?page=2").status_code == 404
    staff_page = client.get(page_of(proposal), headers=ENGLISH).text
    assert "1 open report:" in staff_page
    client.post(page_of(proposal) + f"/comments/{comment.id}/keep")
    assert "No open reports." in client.get("/staff/moderation", headers=ENGLISH).text


def test_the_account_page_saves_how_often_we_write(client, session, log_in, people):
    log_in(people["resident"])
    assert 'name="notify_mode"' in client.get("/account/", headers=ENGLISH).text
    client.post(
        "/account/details", data={"display_name": "Rémi", "locale": "en_CA", "notify_mode": "immediate"}
    )
    session.expire_all()
    assert session.get(User, people["resident"].id).notify_mode == "immediate"
    client.post("/account/details", data={"display_name": "Rémi", "locale": "en_CA"})
    session.expire_all()
    assert session.get(User, people["resident"].id).notify_mode == "immediate"
