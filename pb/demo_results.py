"""The demo's finished vote: Lakeview 2025, with 2,000 simulated ballots and a published result.

Its ballot projects are made while its review was open, voting is recorded as entered at its start,
the ballots are cast through the services (:mod:`pb.simulate`) inside its voting window, and staff
count and publish the result once it closed: the same path a real vote takes, only in the past.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb.models import BallotProject, Cycle, User
from pb.services import results
from pb.services.projects import ProjectInput, create_project
from pb.services.transitions import advance
from pb.simulate import simulate_votes

PAST_BALLOTS = 2_000

# (English title, French title, English description, French description, cost in dollars, category index)
PAST_PROJECTS = (
    ("Mobile crisis team, evenings", "Équipe mobile d’intervention de crise, en soirée",
     "A nurse and a crisis worker answer mental-health calls from 4 p.m. to midnight instead of police.",
     "Une infirmière et une intervenante répondent aux appels de santé mentale de 16 h à minuit, à la place de la police.",
     160_000, 0),
    ("Restorative justice circles in schools", "Cercles de justice réparatrice dans les écoles",
     "Trained facilitators run circles in four schools so conflicts are repaired rather than punished.",
     "Des animatrices formées tiennent des cercles dans quatre écoles pour réparer les conflits plutôt que punir.",
     90_000, 1),
    ("Late-night youth drop-in", "Halte-accueil de soirée pour les jeunes",
     "The community centre stays open until 11 p.m. on Fridays and Saturdays, with youth workers.",
     "Le centre communautaire reste ouvert jusqu’à 23 h les vendredis et samedis, avec des intervenants jeunesse.",
     75_000, 2),
    ("Lighting on the river path", "Éclairage du sentier riverain",
     "LED lighting from the footbridge to the community garden, on a timer, shielded from homes.",
     "Un éclairage DEL de la passerelle au jardin communautaire, sur minuterie, orienté loin des maisons.",
     120_000, 3),
    ("Support worker for victims of violence", "Intervenante auprès des victimes de violence",
     "A support worker who accompanies victims to court, the hospital and housing services.",
     "Une intervenante qui accompagne les victimes au tribunal, à l’hôpital et aux services de logement.",
     85_000, 4),
    ("Safe walk home program", "Programme de raccompagnement sécuritaire",
     "Trained volunteers walk people home from transit stops at night, on request.",
     "Des bénévoles formés raccompagnent à pied, sur demande, les personnes qui descendent du transport en commun le soir.",
     40_000, 0),
    ("Murals with young people at the underpass", "Murales avec les jeunes au passage inférieur",
     "Young artists paint the underpass with a local artist; the space is lit and cleaned.",
     "De jeunes artistes peignent le passage inférieur avec un artiste local; l’endroit est éclairé et nettoyé.",
     35_000, 3),
    ("Conflict mediation for neighbours", "Médiation des conflits de voisinage",
     "Free mediation for neighbour disputes, in English and French, before anyone calls the police.",
     "Une médiation gratuite des conflits de voisinage, en français et en anglais, avant tout appel à la police.",
     55_000, 1),
)


def load_past_vote(session: Session, staff: User, cycle: Cycle, ballots: int | None = None) -> None:
    """Projects, ``ballots`` (default :data:`PAST_BALLOTS`) simulated ballots and a published result for
    a finished ``cycle`` (once)."""
    ballots = PAST_BALLOTS if ballots is None else ballots
    if session.scalar(select(BallotProject.id).where(BallotProject.cycle_id == cycle.id).limit(1)) is not None:
        return
    during_review = cycle.review_start_at + timedelta(days=1)
    categories = cycle.categories
    for title_en, title_fr, text_en, text_fr, dollars, category in PAST_PROJECTS:
        create_project(
            session,
            staff,
            cycle,
            ProjectInput(
                title_en=title_en,
                title_fr=title_fr,
                description_en=text_en,
                description_fr=text_fr,
                cost_cents=dollars * 100,
                district_id=None,
                category_id=categories[category].id if len(categories) > category else None,
            ),
            during_review,
        )
    voting_opens: datetime = cycle.voting_start_at + timedelta(hours=1)
    advance(session, cycle, voting_opens)
    simulate_votes(session, staff, cycle, ballots, voting_opens, seed=2025)
    closed = cycle.voting_end_at + timedelta(hours=2)
    advance(session, cycle, closed)
    draft = results.draft_result(session, staff, cycle, closed)
    results.publish_result(session, staff, draft, closed + timedelta(hours=1))
