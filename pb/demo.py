"""Demo data for development: the fictional city of Lakeview, Ontario.

:func:`load_demo` is idempotent: accounts and cycles that already exist are left as they are.
It must never run in production (``pb demo`` refuses there): the demo passwords are public.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from pb.ballot import BallotConfig
from pb.db import utcnow
from pb.demo_deliberation import load_ballot_projects, load_discussion
from pb.demo_proposals import LAKEVIEW_2026, NORTHGATE_YOUTH, load_proposals
from pb.demo_results import load_past_vote
from pb.demo_review import load_reviews
from pb.demo_voting import load_voting
from pb.models import BallotType, Role, User
from pb.services.accounts import create_user, find_user_by_email, grant_role
from pb.services.cycles import (
    CategoryInput,
    CycleSettings,
    DistrictInput,
    create_cycle,
    get_cycle,
)
from pb.values import local_to_utc, utc_to_local

TIMEZONE = "America/Toronto"

DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    # role, e-mail, password, display name
    ("admin", "admin@lakeview.example.org", "lakeview-demo-admin", "Alex Admin"),
    ("staff", "staff@lakeview.example.org", "lakeview-demo-staff", "Sam Staff"),
    ("auditor", "auditor@lakeview.example.org", "lakeview-demo-auditor", "Audrey Auditor"),
    ("delegate", "delegate@lakeview.example.org", "lakeview-demo-delegate", "Dana Delegate"),
    ("resident", "resident@lakeview.example.org", "lakeview-demo-resident", "Riley Resident"),
)

DISTRICTS = (
    ("Harbourfront", "Secteur du Port"),
    ("Northgate", "Porte-du-Nord"),
    ("Old Mill", "Vieux-Moulin"),
    ("Riverside", "Bord-de-la-Rivière"),
)

CATEGORIES = (
    ("Crisis response", "Intervention en situation de crise"),
    ("Restorative justice", "Justice réparatrice"),
    ("Youth programs", "Programmes pour les jeunes"),
    ("Lighting and public space", "Éclairage et espaces publics"),
    ("Victim support", "Soutien aux victimes"),
)


def _account(session: Session, role: str, email: str, password: str, name: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        user = create_user(session, email, password, name, locale="en_CA", confirmed_at=utcnow())
    if role != "resident":
        grant_role(session, None, user, Role(role))
    return user


def load_demo(session: Session, secret_key: str) -> list[tuple[str, str, str]]:
    """Create the Lakeview demo (accounts and five cycles) unless present; return the sign-ins.

    ``secret_key`` is the app's key; the demo derives nothing from it yet but takes it so that
    later demo data (e.g. ballots) can be signed like real data.
    """
    del secret_key
    users = {
        role: _account(session, role, email, password, name) for role, email, password, name in DEMO_ACCOUNTS
    }
    admin = users["admin"]
    now = utcnow()
    today = utc_to_local(now, TIMEZONE).date()

    def at(days: int) -> datetime:
        """9:00 in Lakeview, ``days`` after today (phases change at 9:00, Toronto time)."""
        return local_to_utc(datetime.combine(today + timedelta(days=days), time(9)), TIMEZONE)

    if get_cycle(session, "lakeview-2026") is None:
        # Open for proposals: started two weeks ago, closes in six weeks.
        start = -14
        create_cycle(
            session,
            admin,
            CycleSettings(
                slug="lakeview-2026",
                # Residents discuss proposals as they come in, not only once submission closes.
                deliberation_during_proposals=True,
                name_en="Lakeview Community Safety Budget 2026",
                name_fr="Budget participatif de sécurité communautaire de Lakeview 2026",
                description_en=(
                    "Lakeview residents decide how to spend $1,000,000 on community safety: crisis response, "
                    "restorative justice, youth programs, lighting and public space, and support for victims.\n\n"
                    "Propose a project for your district, discuss the proposals with your neighbours, then vote."
                ),
                description_fr=(
                    "Les résidents de Lakeview décident comment dépenser 1 000 000 $ pour la sécurité "
                    "communautaire : intervention en situation de crise, justice réparatrice, programmes pour "
                    "les jeunes, éclairage et espaces publics, et soutien aux victimes.\n\n"
                    "Proposez un projet pour votre secteur, discutez des propositions avec vos voisins, puis votez."
                ),
                currency="CAD",
                timezone=TIMEZONE,
                budget_cents=None,
                districts=[
                    DistrictInput(en, fr, cents)
                    for (en, fr), cents in zip(
                        DISTRICTS, (300_000_00, 250_000_00, 200_000_00, 250_000_00), strict=True
                    )
                ],
                categories=[CategoryInput(en, fr) for en, fr in CATEGORIES],
                proposals_start_at=at(start),
                proposals_end_at=at(start + 56),
                review_start_at=at(start + 56),
                review_end_at=at(start + 84),
                voting_start_at=at(start + 84),
                voting_end_at=at(start + 105),
                results_start_at=at(start + 106),
                ballot=BallotConfig(
                    BallotType.KNAPSACK,
                    min_projects=1,
                    min_budget_share_percent=0,
                    tally_rule="mes",
                    tally_completion="add1",
                ),
            ),
            now=now,
        )

    if get_cycle(session, "lakeview-2025") is None:
        # Finished: the results have been public for about half a year.
        start = -400
        create_cycle(
            session,
            admin,
            CycleSettings(
                slug="lakeview-2025",
                name_en="Lakeview Community Safety Budget 2025",
                name_fr="Budget participatif de sécurité communautaire de Lakeview 2025",
                description_en="The first Lakeview participatory budget for community safety: $500,000 city-wide.",
                description_fr=(
                    "Le premier budget participatif de Lakeview pour la sécurité communautaire : 500 000 $ pour "
                    "toute la ville."
                ),
                currency="CAD",
                timezone=TIMEZONE,
                budget_cents=500_000_00,
                districts=[DistrictInput(en, fr) for en, fr in DISTRICTS],
                categories=[CategoryInput(en, fr) for en, fr in CATEGORIES],
                proposals_start_at=at(start),
                proposals_end_at=at(start + 60),
                review_start_at=at(start + 60),
                review_end_at=at(start + 120),
                voting_start_at=at(start + 150),
                voting_end_at=at(start + 171),
                results_start_at=at(start + 178),
                # Counted with the defaults: most support first, the cheaper project first in a tie.
                ballot=BallotConfig(BallotType.APPROVAL, max_projects=5, allow_revision=False),
            ),
            # Made while its review ran, so that its vote can be simulated in its own voting window.
            now=at(start + 61),
        )

    if get_cycle(session, "northgate-youth-2026") is None:
        # In deliberation: proposals closed a week ago; comments, supports and reviews until voting.
        start = -35
        create_cycle(
            session,
            admin,
            CycleSettings(
                slug="northgate-youth-2026",
                name_en="Northgate Youth Safety Fund 2026",
                name_fr="Fonds jeunesse pour la sécurité de Porte-du-Nord 2026",
                description_en=(
                    "Northgate's youth council and residents decide how to spend $150,000 on programs that keep "
                    "young people safe. Proposals are closed: read them, comment, and support the ones you like."
                ),
                description_fr=(
                    "Le conseil jeunesse et les résidents de Porte-du-Nord décident comment dépenser 150 000 $ pour "
                    "des programmes qui protègent les jeunes. Les propositions sont fermées : lisez-les, "
                    "commentez-les et appuyez celles que vous aimez."
                ),
                currency="CAD",
                timezone=TIMEZONE,
                budget_cents=150_000_00,
                districts=[],
                categories=[CategoryInput(en, fr) for en, fr in CATEGORIES],
                proposals_start_at=at(start),
                proposals_end_at=at(start + 28),
                review_start_at=at(start + 28),
                review_end_at=at(start + 49),
                voting_start_at=at(start + 49),
                voting_end_at=at(start + 63),
                results_start_at=at(start + 64),
                ballot=BallotConfig(BallotType.APPROVAL, max_projects=3),
            ),
            now=now,
        )

    session.flush()
    staff = users["staff"]
    load_proposals(session, get_cycle(session, "lakeview-2026"), LAKEVIEW_2026, staff, now)
    load_proposals(session, get_cycle(session, "northgate-youth-2026"), NORTHGATE_YOUTH, staff, now)
    for slug in ("lakeview-2026", "northgate-youth-2026"):
        load_reviews(session, get_cycle(session, slug), staff)
    lakeview, northgate = get_cycle(session, "lakeview-2026"), get_cycle(session, "northgate-youth-2026")
    load_discussion(session, lakeview, lakeview.proposals_start_at, now)
    load_discussion(session, northgate, northgate.review_start_at, now)
    load_ballot_projects(session, lakeview, staff, now)
    # In voting now: a knapsack and a ranked cycle, the resident confirmed as a voter, a few ballots cast.
    load_voting(session, admin, staff, users["resident"], CATEGORIES, DISTRICTS, TIMEZONE, now)
    # Finished: 2,000 simulated ballots, counted and published.
    load_past_vote(session, staff, get_cycle(session, "lakeview-2025"))
    session.flush()
    return [(role, email, password) for role, email, password, _name in DEMO_ACCOUNTS]
