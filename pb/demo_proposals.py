"""Demo proposals for Lakeview: ideas residents might really bring to a community-safety budget,
in English and French, in every status, by a handful of demo residents.

Loaded by :func:`pb.demo.load_demo` through the services, so the demo shows what real use produces
(public history, audit entries, search text). Districts and categories are given by position in
``pb.demo.DISTRICTS`` and ``pb.demo.CATEGORIES``; ``None`` as district means city-wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pb.models import Cycle, Proposal, ProposalStatus, User
from pb.services.proposals import (
    ProposalInput,
    add_translation,
    change_status,
    create_proposal,
    withdraw_proposal,
)

S = ProposalStatus
HARBOURFRONT, NORTHGATE, OLD_MILL, RIVERSIDE = range(4)
CRISIS, RESTORATIVE, YOUTH, LIGHTING, VICTIMS = range(5)

DEMO_RESIDENTS: tuple[tuple[str, str, str], ...] = (
    # e-mail, display name, language
    ("amina@lakeview.example.org", "Amina Haddad", "fr_CA"),
    ("ben@lakeview.example.org", "Ben Okafor", "en_CA"),
    ("chloe@lakeview.example.org", "Chloé Tremblay", "fr_CA"),
    ("dev@lakeview.example.org", "Dev Patel", "en_CA"),
    ("elsie@lakeview.example.org", "Elsie Whitebird", "en_CA"),
    ("farid@lakeview.example.org", "Farid Mansour", "fr_CA"),
    ("grace@lakeview.example.org", "Grace Liu", "en_CA"),
)


@dataclass(frozen=True)
class Idea:
    language: str
    district: int | None
    category: int
    title: str
    summary: str
    description: str
    cost: int | None  # whole dollars
    status: ProposalStatus = S.SUBMITTED
    reason: str = ""  # the public reason of the last status change
    anonymous: bool = False
    location: str = ""
    partner: str = ""
    beneficiaries: str = ""
    translation: tuple[str, str, str] | None = None  # title, summary, description in the other language


LAKEVIEW_2026 = (
    Idea("en", HARBOURFRONT, CRISIS, "Mobile crisis team for the harbourfront at night",
         "A nurse and a peer worker answer mental-health calls on the waterfront from 6 pm to 2 am.",
         "Most calls from the harbourfront at night are about people in distress, not crime. A two-person "
         "team (a mental-health nurse and a peer support worker) would answer them, on foot and by van.\n\n"
         "The team would work with the shelter on Dock Street and hand over to daytime services.",
         180_000, S.FEASIBLE, "Feasible with the Lakeview Health crisis line; cost checked for one year.",
         partner="Lakeview Health crisis line", beneficiaries="People in crisis, their families, bar staff",
         location="Harbourfront boardwalk and Dock Street",
         translation=("Équipe mobile de crise pour le port la nuit",
                      "Une infirmière et une paire aidante répondent aux appels de santé mentale de 18 h à 2 h.",
                      "La plupart des appels du port la nuit concernent des personnes en détresse.")),
    Idea("fr", NORTHGATE, YOUTH, "Gymnase ouvert le vendredi soir",
         "Ouvrir le gymnase de l’école Porte-du-Nord aux jeunes de 12 à 17 ans le vendredi, de 19 h à 23 h.",
         "Les jeunes n’ont nulle part où aller le vendredi soir. Deux animateurs et une intervenante "
         "jeunesse encadreraient basketball, musique et jeux.\n\nLe centre communautaire prêterait l’équipement.",
         45_000, S.UNDER_REVIEW, location="École secondaire Porte-du-Nord",
         beneficiaries="Jeunes de 12 à 17 ans du quartier", partner="Maison des jeunes de Porte-du-Nord"),
    Idea("en", RIVERSIDE, LIGHTING, "Warm lights on the river path",
         "Replace the six broken lamps between the footbridge and the community centre.",
         "The path is the shortest way home from the bus loop, but it is dark after 5 pm in winter and "
         "people walk along the road instead.", 60_000, S.FEASIBLE,
         "Feasible; Public Works confirmed the cost of six LED lamps with warm light.",
         location="River path, footbridge to community centre", beneficiaries="People walking home from the bus"),
    Idea("en", None, RESTORATIVE, "Restorative justice circles in schools",
         "Trained facilitators run circles after conflicts, instead of suspensions.",
         "Suspensions push students out; circles bring together the people harmed, those who harmed and "
         "the community to repair what happened.", 120_000, S.UNDER_REVIEW,
         partner="Lakeview Restorative Justice Collective", beneficiaries="Students, teachers, families"),
    Idea("fr", OLD_MILL, VICTIMS, "Accompagnement des victimes au tribunal",
         "Des bénévoles formés accompagnent les victimes de violence aux audiences.",
         "Beaucoup de victimes renoncent à témoigner parce qu’elles se sentent seules. Un service "
         "d’accompagnement, en français et en anglais, les aiderait du dépôt de plainte au jugement.",
         35_000, S.SUBMITTED, partner="Centre d’aide aux victimes de Lakeview"),
    Idea("en", NORTHGATE, LIGHTING, "Security cameras on every corner of Northgate",
         "Install 40 cameras with face recognition across Northgate.",
         "Cameras would record everyone walking in Northgate and match faces against police lists.",
         400_000, S.NOT_FEASIBLE,
         "Not feasible: the city's surveillance policy forbids face recognition in public space, and the cost "
         "is above Northgate's whole budget."),
    Idea("en", HARBOURFRONT, YOUTH, "Summer jobs for youth on the waterfront",
         "Paid summer jobs for 20 youth, keeping the waterfront clean and welcoming.",
         "Youth from the harbourfront towers would be hired, trained in first aid and conflict de-escalation, "
         "and paid a living wage for eight weeks.", 90_000, S.SUBMITTED, anonymous=True),
    Idea("fr", RIVERSIDE, CRISIS, "Ligne d’écoute en français la nuit",
         "Une ligne d’écoute de nuit, en français, pour les personnes en détresse.",
         "La ligne actuelle répond surtout en anglais après minuit. Les francophones du Bord-de-la-Rivière "
         "raccrochent souvent faute de pouvoir s’exprimer dans leur langue.", 70_000, S.SUBMITTED),
    Idea("en", OLD_MILL, LIGHTING, "A safe crossing at Mill Street and 3rd",
         "Raised crosswalk, flashing beacons and curb extensions at a corner where children cross.",
         "Three children were hit at this corner in two years. Drivers speed down the hill.",
         85_000, S.FEASIBLE, "Feasible; Traffic Services will build it in the summer.",
         location="Mill Street at 3rd Avenue", beneficiaries="Children walking to Old Mill Elementary"),
    Idea("en", None, VICTIMS, "Emergency housing fund for people leaving violence",
         "Pay first and last month's rent for people leaving a violent home.",
         "Shelters are full, and people stay in danger because they cannot pay to move. A fund managed by "
         "the women's shelter would pay rent deposits.", 150_000, S.UNDER_REVIEW,
         partner="Lakeview Women's Shelter", anonymous=True),
    Idea("fr", HARBOURFRONT, RESTORATIVE, "Médiation de quartier",
         "Des médiateurs bénévoles pour régler les conflits entre voisins avant qu’ils ne dégénèrent.",
         "Bruit, stationnement, animaux : des conflits banals finissent en appels à la police. Un service de "
         "médiation gratuit offrirait une autre voie.", 25_000, S.SUBMITTED),
    Idea("en", NORTHGATE, CRISIS, "Naloxone kits in every Northgate business",
         "Free naloxone kits and training for staff of shops, bars and restaurants.",
         "Overdoses in Northgate doubled last year. Staff who are trained and equipped can save a life while "
         "waiting for paramedics.", 20_000, S.FEASIBLE, "Feasible; Public Health will run the training.",
         partner="Lakeview Public Health"),
    Idea("en", RIVERSIDE, YOUTH, "Skate park lights and a youth worker",
         "Light the Riverside skate park until 10 pm and fund a youth worker there in the evenings.",
         "The skate park is busy until dark and then empty, and fights happen in the dark parking lot.",
         75_000, S.SUBMITTED, location="Riverside skate park"),
    Idea("fr", NORTHGATE, LIGHTING, "Éclairage de la ruelle derrière la rue Principale",
         "Installer des lampadaires dans la ruelle où plusieurs agressions ont eu lieu.",
         "La ruelle sert de raccourci vers le métro, mais elle est complètement noire le soir.",
         30_000, S.MERGED, "Fusionnée avec une proposition semblable pour les ruelles de Porte-du-Nord."),
    Idea("en", NORTHGATE, LIGHTING, "Light the Northgate laneways",
         "Lighting in the four laneways behind Main Street, where most night-time assaults happen.",
         "Residents walk through the laneways to reach the station. Four laneways, 24 lamps.",
         95_000, S.FEASIBLE, "Feasible; merged with a similar French proposal for the same laneways."),
    Idea("en", OLD_MILL, YOUTH, "Free music studio for teens",
         "A drop-in recording studio in the Old Mill library basement, with a mentor.",
         "Teens in Old Mill have asked for a place to make music. A mentor would also connect them with "
         "services when they need help.", 55_000, S.WITHDRAWN, "The author withdrew it to join the library's own plan."),
    Idea("en", None, CRISIS, "Non-police response to wellness checks",
         "Send trained civilian responders, not police, to wellness checks.",
         "Wellness checks by armed officers have ended badly in other Canadian cities. Civilian teams trained "
         "in de-escalation would handle them, with police on call if needed.", 250_000, S.UNDER_REVIEW),
    Idea("fr", OLD_MILL, VICTIMS, "Trousses de sécurité pour les aînés",
         "Des trousses (alarme personnelle, serrures, téléphone d’urgence) pour les aînés qui vivent seuls.",
         "Plusieurs aînés du Vieux-Moulin ont été victimes de fraude et de vols. Des bénévoles installeraient "
         "les trousses et expliqueraient comment éviter les fraudes.", 40_000, S.SUBMITTED),
    Idea("en", HARBOURFRONT, LIGHTING, "Public washrooms open at night",
         "Keep the harbourfront washrooms open and staffed until 2 am.",
         "Closed washrooms mean people use alleys; staff would also be a friendly presence at night.",
         110_000, S.SUBMITTED),
    Idea("en", RIVERSIDE, RESTORATIVE, "Elders' circle for youth in trouble",
         "Indigenous Elders meet youth referred by schools and courts in a weekly circle.",
         "The Riverside Friendship Centre already runs circles; funding would pay Elders' honoraria, food and "
         "transport for two years.", 60_000, S.FEASIBLE, "Feasible; the Friendship Centre confirmed its capacity.",
         partner="Riverside Indigenous Friendship Centre", beneficiaries="Indigenous youth and their families"),
    Idea("fr", None, YOUTH, "Transport gratuit le soir pour les jeunes",
         "Des passes d’autobus gratuites après 18 h pour les moins de 18 ans.",
         "Les jeunes marchent seuls tard le soir parce que l’autobus coûte trop cher.", 300_000, S.NOT_FEASIBLE,
         "Non réalisable dans ce budget : le coût dépasse ce qu’un district peut financer; transmis au "
         "service de transport pour son propre budget."),
    Idea("en", NORTHGATE, VICTIMS, "Multilingual hate-incident reporting line",
         "A phone and text line in eight languages to report hate incidents and get support.",
         "Many newcomers in Northgate never report hate incidents because they do not speak English or "
         "French well, or fear the police.", 50_000, S.SUBMITTED, anonymous=True),
    Idea("en", OLD_MILL, CRISIS, "Peer support drop-in at the Old Mill hub",
         "A drop-in space run by people with lived experience of addiction and mental illness.",
         "Open four evenings a week, with coffee, naloxone and referrals.", 65_000, S.SUBMITTED),
    Idea("fr", HARBOURFRONT, LIGHTING, "Bancs et verdure sur la place du Marché",
         "Rendre la place du Marché plus accueillante avec des bancs, des arbres et de l’éclairage doux.",
         "Une place fréquentée est une place plus sûre : aujourd’hui, la place est vide et inquiétante le soir.",
         80_000, S.SUBMITTED, location="Place du Marché"),
    Idea("en", RIVERSIDE, VICTIMS, "Bike repair and safety workshops",
         "Free bike repair, lights and locks for low-income cyclists.",
         "Cyclists without lights are hit at night; workshops would give lights and teach safe routes.",
         15_000, S.SUBMITTED),
    Idea("en", None, RESTORATIVE, "Graffiti to murals with youth",
         "Youth who were caught tagging paint murals with local artists, instead of paying fines.",
         "A restorative alternative that turns walls into shared spaces.", 35_000, S.DRAFT),
)

NORTHGATE_YOUTH = (
    Idea("en", None, YOUTH, "After-school program at the Northgate pool",
         "Free swimming lessons and lifeguard training for teens after school.",
         "Teens trained as lifeguards get their first job, and the pool stays open and supervised.",
         40_000, S.FEASIBLE, "Feasible; Recreation Services confirmed staff and pool time."),
    Idea("fr", None, YOUTH, "Ligue de soccer de rue",
         "Une ligue de soccer gratuite, le soir, dans le parc Central.",
         "Le sport encadré réduit les conflits entre groupes de jeunes.", 25_000, S.UNDER_REVIEW),
    Idea("en", None, CRISIS, "Youth mental-health first aid",
         "Train 200 teens in mental-health first aid so they can help their friends.",
         "Young people talk to their friends first, not to adults.", 20_000, S.SUBMITTED),
    Idea("en", None, RESTORATIVE, "Mentors for youth leaving custody",
         "Pair each youth leaving custody with a trained mentor for a year.",
         "The months after custody decide whether a young person returns to it.", 55_000, S.SUBMITTED,
         anonymous=True),
)


def _account(session: Session, email: str, name: str, locale: str, now: datetime) -> User:
    from pb.services.accounts import create_user, find_user_by_email

    user = find_user_by_email(session, email)
    if user is None:
        user = create_user(session, email, "lakeview-demo-resident", name, locale=locale)
        user.email_confirmed_at = now
    return user


def load_proposals(
    session: Session, cycle: Cycle, ideas: tuple[Idea, ...], staff: User, now: datetime
) -> list[Proposal]:
    """The ideas as proposals of ``cycle`` (none if it has proposals already), submitted while it was open."""
    if session.scalar(select(func.count(Proposal.id)).where(Proposal.cycle_id == cycle.id)):
        return []
    authors = [_account(session, email, name, locale, now) for email, name, locale in DEMO_RESIDENTS]
    cycle.max_proposals_per_resident = max(cycle.max_proposals_per_resident, len(ideas))
    opened = cycle.proposals_start_at
    # Everything happens in the past, while proposals were open: submissions in the first half of that
    # time, reviews after each submission.
    until = min(now, cycle.proposals_end_at) - timedelta(minutes=5)
    made: list[Proposal] = []
    for number, idea in enumerate(ideas):
        when = opened + (until - opened) * (number + 1) / (2 * len(ideas) + 2)
        data = ProposalInput(
            title=idea.title,
            summary=idea.summary,
            description=idea.description,
            language=idea.language,
            category_id=cycle.categories[idea.category].id,
            district_id=None if idea.district is None else cycle.districts[idea.district].id,
            location=idea.location,
            beneficiaries=idea.beneficiaries,
            estimated_cost_cents=None if idea.cost is None else idea.cost * 100,
            partner=idea.partner,
            show_author_name=not idea.anonymous,
        )
        author = authors[number % len(authors)]
        proposal = create_proposal(session, author, cycle, data, when, submit=idea.status is not S.DRAFT)
        if idea.translation:
            add_translation(session, staff, proposal, *idea.translation, when + timedelta(days=1))
        _move(session, proposal, idea, author, staff, when, until)
        made.append(proposal)
    _merge_duplicates(session, made, ideas, staff, now)
    return made


def _move(
    session: Session, proposal: Proposal, idea: Idea, author: User, staff: User, when: datetime, until: datetime
) -> None:
    step = (until - when) / 3
    if idea.status in (S.DRAFT, S.SUBMITTED, S.MERGED):
        return
    if idea.status is S.WITHDRAWN:
        withdraw_proposal(session, author, proposal, when + step)
        return
    change_status(session, staff, proposal, S.UNDER_REVIEW, when + step)
    if idea.status is not S.UNDER_REVIEW:
        change_status(session, staff, proposal, idea.status, when + 2 * step, idea.reason)


def _merge_duplicates(session: Session, made: list[Proposal], ideas: tuple[Idea, ...], staff: User, now) -> None:
    """Each merged idea goes into the next idea with the same district and category."""
    for index, idea in enumerate(ideas):
        if idea.status is not S.MERGED:
            continue
        target = next(
            made[j]
            for j in range(index + 1, len(ideas))
            if ideas[j].district == idea.district and ideas[j].category == idea.category
        )
        proposal = made[index]
        proposal.merged_into = target
        change_status(session, staff, proposal, S.MERGED, target.history[-1].at, idea.reason)
