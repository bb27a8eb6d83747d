"""Seed a cycle with many proposals, supports and comments, fast, for the page benchmarks.

    seed_proposals(engine, cycle_id, proposals=5000, supports=100_000, comments=50_000)

Writes with bulk INSERTs (not through the services: 150,000 rows through the ORM would take
minutes), but with what the services would store: folded search text, exact support and comment
counters, submitted status and history. Residents are created as needed (one support per resident
per proposal, as the unique constraint demands).
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import Engine, func, insert, select, update

from pb.db import utcnow
from pb.models import (
    Category,
    Comment,
    Cycle,
    District,
    Proposal,
    ProposalStatus,
    ProposalStatusChange,
    Support,
    User,
)
from pb.textsearch import fold

WORDS = ["lighting", "safety", "youth", "crisis", "path", "park", "school", "night", "street", "centre", "crossing", "team", "sécurité", "éclairage", "jeunes", "sentier", "école", "nuit", "quartier", "parc", "médiation", "support", "seniors", "bikes", "mural", "restorative", "circle"]


def _text(draw: random.Random, words: int) -> str:
    return " ".join(draw.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed_proposals(
    engine: Engine,
    cycle_id: int,
    *,
    proposals: int = 5000,
    supports: int = 100_000,
    comments: int = 50_000,
    residents: int = 500,
    seed: int = 2026,
) -> None:
    draw = random.Random(seed)
    now = utcnow()
    with engine.begin() as connection:
        cycle = connection.execute(select(Cycle.__table__).where(Cycle.id == cycle_id)).one()
        first_user = (connection.scalar(select(func.max(User.id))) or 0) + 1
        connection.execute(
            insert(User),
            [
                {
                    "email": f"bench-resident-{first_user + n}@example.org",
                    "display_name": f"Resident {n}",
                    "password_hash": "!",  # no password: these accounts cannot sign in
                    "locale": "en_CA",
                    "is_active": True,
                    "created_at": now,
                    "password_changed_at": now,
                    "session_generation": 0,
                    "email_confirmed_at": now,
                }
                for n in range(residents)
            ],
        )
        users = list(range(first_user, first_user + residents))
        district_ids = list(connection.scalars(select(District.id).where(District.cycle_id == cycle_id)))
        category_ids = list(connection.scalars(select(Category.id).where(Category.cycle_id == cycle_id)))
        rows = []
        for n in range(proposals):
            title, summary, description = _text(draw, 5), _text(draw, 15), _text(draw, 80)
            rows.append(
                {
                    "cycle_id": cycle_id,
                    "author_id": draw.choice(users),
                    "status": ProposalStatus.SUBMITTED,
                    "language": draw.choice(("en", "fr")),
                    "title": f"{title} {n}",
                    "summary": summary,
                    "description": description,
                    "category_id": draw.choice(category_ids) if category_ids else None,
                    "district_id": draw.choice([None, *district_ids]),
                    "location": "",
                    "beneficiaries": "",
                    "partner": "",
                    "show_author_name": True,
                    "photo_alt": "",
                    "hidden_reason": "",
                    "search_text": fold(f"{title} {n} {summary} {description}"),
                    "support_count": 0,
                    "comment_count": 0,
                    "created_at": cycle.proposals_start_at,
                    "submitted_at": cycle.proposals_start_at + timedelta(minutes=n),
                    "updated_at": now,
                    "version": 1,
                }
            )
        connection.execute(insert(Proposal), rows)
        ids = list(connection.scalars(select(Proposal.id).where(Proposal.cycle_id == cycle_id).order_by(Proposal.id)))
        connection.execute(
            insert(ProposalStatusChange),
            [
                {"proposal_id": pid, "from_status": ProposalStatus.DRAFT, "to_status": ProposalStatus.SUBMITTED,
                 "event": "status", "public_reason": "", "at": cycle.proposals_start_at}
                for pid in ids
            ],
        )
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < min(supports, len(ids) * len(users)):
            pairs.add((draw.choice(ids), draw.choice(users)))
        connection.execute(
            insert(Support), [{"proposal_id": p, "user_id": u, "created_at": now} for p, u in pairs]
        )
        connection.execute(
            insert(Comment),
            [
                {
                    "proposal_id": draw.choice(ids),
                    "author_id": draw.choice(users),
                    "body": _text(draw, 30),
                    "language": "en",
                    "created_at": now,
                    "hidden_reason": "",
                }
                for _ in range(comments)
            ],
        )
        supports_of = select(func.count(Support.id)).where(Support.proposal_id == Proposal.id).scalar_subquery()
        comments_of = select(func.count(Comment.id)).where(Comment.proposal_id == Proposal.id).scalar_subquery()
        connection.execute(
            update(Proposal)
            .where(Proposal.cycle_id == cycle_id)
            .values(support_count=supports_of, comment_count=comments_of)
        )
    if engine.dialect.name == "postgresql":
        # What autovacuum does within a minute of such a bulk load: statistics for the planner, and the
        # visibility map that lets index-only scans skip the table. Measuring before it ran would
        # measure the minute after the load, not the site.
        # On the DBAPI connection itself: pb's engine begins a transaction for any statement sent as text.
        raw = engine.raw_connection()
        try:
            raw.dbapi_connection.autocommit = True
            with raw.dbapi_connection.cursor() as cursor:
                for table in ("proposals", "supports", "comments", "proposal_status_changes", "users", "proposal_activity"):
                    cursor.execute(f"VACUUM ANALYZE {table}")
        finally:
            raw.dbapi_connection.autocommit = False
            raw.close()
