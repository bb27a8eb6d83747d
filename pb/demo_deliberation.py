"""The demo's discussion and ballot: supports and comments (with replies, in both languages) on the
open cycles' proposals, and the first ballot projects made from feasible Lakeview proposals.

Made through the services at moments when the cycle allowed them, so counters, history and audit
entries are what real use produces. Idempotent: a cycle that has comments or projects is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pb.demo_proposals import DEMO_RESIDENTS
from pb.models import BallotProject, Comment, Cycle, Proposal, ProposalStatus, User
from pb.services.accounts import find_user_by_email
from pb.services.deliberation import add_comment, follow_proposal, support_proposal
from pb.services.projects import ProjectInput, create_project

# (language, text, replies as (language, text)) — said about whichever proposal they land on, so general.
COMMENTS = (
    ("en", "I walk here every evening with my kids. This would make a real difference.",
     (("en", "Same for us. Could it start before the winter?"),)),
    ("fr", "Bonne idée, mais qui va s’en occuper après la première année?",
     (("fr", "L’organisme partenaire s’est engagé pour trois ans, d’après la description."),
      ("en", "Good question: the review should check the running costs too."))),
    ("en", "Has anyone asked the people who would use it? The youth council should be consulted.", ()),
    ("fr", "J’appuie. Dans notre rue, plusieurs aînés n’osent plus sortir le soir.", ()),
    ("en", "The cost looks high to me. Is there a cheaper way to do the same thing?",
     (("en", "Reviewers will check the cost; a partner may already have some of the equipment."),)),
)
# How many demo residents support each proposal, by its position in the cycle (a spread, not a ranking).
SUPPORT_PATTERN = (6, 2, 7, 4, 1, 0, 5, 3, 7, 2, 4, 6, 1, 3, 5, 0, 2, 7, 4, 1)
BALLOT_FROM = (
    # an English title of a feasible demo proposal, and its ballot project's French text
    ("Mobile crisis team for the harbourfront at night",
     "Équipe mobile de crise pour le port la nuit",
     "Une infirmière et une paire aidante répondent aux appels de santé mentale au port, de 18 h à 2 h."),
    ("Warm lights on the river path",
     "Éclairage chaleureux du sentier riverain",
     "Remplacer les six lampadaires brisés entre la passerelle et le centre communautaire."),
)


def _residents(session: Session) -> list[User]:
    return [user for email, _name, _locale in DEMO_RESIDENTS if (user := find_user_by_email(session, email))]


def load_discussion(session: Session, cycle: Cycle, opens: datetime, now: datetime) -> int:
    """Supports, follows and comments on the cycle's public proposals, between ``opens`` and ``now``."""
    has_comments = session.scalar(
        select(func.count(Comment.id)).join(Proposal).where(Proposal.cycle_id == cycle.id)
    )
    if has_comments:
        return 0
    residents = _residents(session)
    open_statuses = (ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW, ProposalStatus.FEASIBLE,
                     ProposalStatus.NOT_FEASIBLE)
    proposals = session.scalars(
        select(Proposal)
        .where(Proposal.cycle_id == cycle.id, Proposal.status.in_(open_statuses))
        .order_by(Proposal.id)
    ).all()
    made = 0
    for index, proposal in enumerate(proposals):
        start = max(opens, proposal.submitted_at or opens) + timedelta(minutes=10)
        step = (now - timedelta(minutes=30) - start) / 12
        if step <= timedelta(0):
            continue
        supporters = [r for r in residents if r.id != proposal.author_id][: SUPPORT_PATTERN[index % len(SUPPORT_PATTERN)]]
        for number, resident in enumerate(supporters):
            support_proposal(session, resident, proposal, start + step * (number % 5))
            follow_proposal(session, resident, proposal, start + step * (number % 5))
        if index % 2:
            continue
        language, text, replies = COMMENTS[(index // 2) % len(COMMENTS)]
        writer = residents[(index + 3) % len(residents)]
        comment = add_comment(session, writer, proposal, text, language, start + step * 6)
        for number, (reply_language, reply) in enumerate(replies, start=1):
            replier = residents[(index + 3 + number) % len(residents)]
            add_comment(session, replier, proposal, reply, reply_language, start + step * (6 + 2 * number),
                        parent=comment)
        made += 1 + len(replies)
    return made


def load_ballot_projects(session: Session, cycle: Cycle, staff: User, now: datetime) -> int:
    """Ballot projects from the feasible proposals named in ``BALLOT_FROM`` (none if the cycle has projects)."""
    if session.scalar(select(func.count(BallotProject.id)).where(BallotProject.cycle_id == cycle.id)):
        return 0
    made = 0
    for title, title_fr, description_fr in BALLOT_FROM:
        proposal = session.scalar(
            select(Proposal).where(
                Proposal.cycle_id == cycle.id, Proposal.title == title, Proposal.status == ProposalStatus.FEASIBLE
            )
        )
        if proposal is None:
            continue
        data = ProjectInput(
            title_en=proposal.title,
            title_fr=title_fr,
            description_en=proposal.summary,
            description_fr=description_fr,
            cost_cents=proposal.estimated_cost_cents,
            district_id=proposal.district_id,
            category_id=proposal.category_id,
        )
        create_project(session, staff, cycle, data, now, [proposal.id])
        made += 1
    return made
