"""The demo's votes: two Lakeview cycles in voting now (a knapsack ballot with district and city-wide
projects, and a ranked ballot), voter codes to try them with, the demo resident confirmed as a voter,
and a few ballots already cast so the public pages show a count and the ballot log's head.

Everything goes through the services: the cycles are made while they were in review, their projects
confirmed by staff, and voting is recorded as entered (:func:`pb.services.transitions.advance`), which
draws the slot key and starts the log. Idempotent: a cycle that exists is left as it is, and ballots
are cast only into an empty log.

Voter codes exist in clear only when they are made (:func:`pb.services.eligibility.create_code_batch`);
:func:`issue_demo_codes` makes them, and ``pb demo`` writes them to a file. When that file is lost,
the demo batches are voided (as staff would void a lost batch) and new ones made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pb.ballot import BallotConfig
from pb.models import (
    BallotLogHead,
    BallotType,
    Cycle,
    EligibilityBasis,
    User,
    VoterCodeBatch,
    VoterEligibility,
)
from pb.services import eligibility, voting
from pb.services.ballot_rules import RawChoices
from pb.services.cycles import CategoryInput, CycleSettings, DistrictInput, create_cycle, get_cycle
from pb.services.projects import ProjectInput, create_project
from pb.services.transitions import advance
from pb.values import local_to_utc, utc_to_local
from pb.voter_codes import display

KNAPSACK_SLUG = "safer-nights-2026"
RANKED_SLUG = "youth-priorities-2026"
CODES_LABEL = "Demo codes"  # the batches whose codes ``pb demo`` prints
CAST_LABEL = "Demo: ballots already cast"  # codes the demo used itself, never printed
CODES_PER_CYCLE = 10

# District and category positions, as in pb.demo.DISTRICTS and pb.demo.CATEGORIES.
HARBOURFRONT, NORTHGATE, OLD_MILL, RIVERSIDE = range(4)
CRISIS, RESTORATIVE, YOUTH, LIGHTING, VICTIMS = range(5)


@dataclass(frozen=True)
class Project:
    district: int | None  # None: city-wide
    category: int
    dollars: int
    title_en: str
    title_fr: str
    description_en: str
    description_fr: str


SAFER_NIGHTS = (
    Project(HARBOURFRONT, CRISIS, 120_000, "Night crisis outreach on the boardwalk",
            "Intervention de crise de nuit sur la promenade",
            "A nurse and a peer worker walk the boardwalk from 8 pm to 2 am, four nights a week, and answer "
            "calls about people in distress instead of the police.",
            "Une infirmière et une paire aidante parcourent la promenade de 20 h à 2 h, quatre soirs par "
            "semaine, et répondent aux appels concernant des personnes en détresse à la place de la police."),
    Project(HARBOURFRONT, LIGHTING, 45_000, "Brighter stairs to the ferry dock",
            "Escaliers mieux éclairés vers le quai du traversier",
            "Warm, glare-free lights on the two stairways from Dock Street to the ferry, where people "
            "coming home late say they feel unsafe.",
            "Un éclairage chaleureux et sans éblouissement dans les deux escaliers entre la rue Dock et le "
            "traversier, où les gens qui rentrent tard disent ne pas se sentir en sécurité."),
    Project(RIVERSIDE, RESTORATIVE, 60_000, "Restorative circles at Riverside Secondary",
            "Cercles de justice réparatrice à l’école secondaire Riverside",
            "Trained facilitators run circles after fights and thefts at school, so that students repair "
            "the harm together instead of being suspended.",
            "Des animateurs formés tiennent des cercles après les bagarres et les vols à l’école : les élèves "
            "réparent le tort ensemble au lieu d’être suspendus."),
    Project(RIVERSIDE, LIGHTING, 75_000, "Solar lights on the river path",
            "Lampadaires solaires sur le sentier riverain",
            "Twenty solar lamps between the footbridge and the community centre, the shortest way home from "
            "the bus loop, dark after 5 pm in winter.",
            "Vingt lampadaires solaires entre la passerelle et le centre communautaire, le chemin le plus "
            "court depuis la boucle d’autobus, sombre dès 17 h en hiver."),
    Project(RIVERSIDE, YOUTH, 90_000, "Youth outreach workers on summer evenings",
            "Travailleurs de rue pour les jeunes les soirs d’été",
            "Two outreach workers in the parks and at the skate park from June to September, who know the "
            "young people by name and connect them with jobs and support.",
            "Deux travailleurs de rue dans les parcs et au planchodrome de juin à septembre, qui connaissent "
            "les jeunes par leur nom et les orientent vers des emplois et du soutien."),
    Project(NORTHGATE, YOUTH, 80_000, "Late-night drop-in at the Northgate library",
            "Soirées libres tardives à la bibliothèque de Porte-du-Nord",
            "The library stays open until midnight on Fridays and Saturdays for 12- to 17-year-olds, with "
            "two youth workers, games, music and food.",
            "La bibliothèque reste ouverte jusqu’à minuit les vendredis et samedis pour les 12 à 17 ans, avec "
            "deux intervenants jeunesse, des jeux, de la musique et de quoi manger."),
    Project(OLD_MILL, LIGHTING, 55_000, "Lighting the Old Mill underpass",
            "Éclairer le passage inférieur du Vieux-Moulin",
            "New lights and a mural in the railway underpass on Mill Road, the only way across the tracks "
            "on foot for half a kilometre.",
            "De nouveaux luminaires et une murale dans le passage sous la voie ferrée du chemin du Moulin, le "
            "seul passage à pied sur un demi-kilomètre."),
    Project(None, CRISIS, 150_000, "A 24-hour crisis line answered by counsellors",
            "Une ligne de crise 24 heures sur 24 avec des intervenants",
            "Calls about mental-health crises go to trained counsellors, day and night, who can send the "
            "mobile crisis team instead of the police.",
            "Les appels pour une crise de santé mentale vont à des intervenants formés, jour et nuit, qui "
            "peuvent envoyer l’équipe mobile de crise plutôt que la police."),
    Project(None, VICTIMS, 110_000, "Support workers for people harmed by violence",
            "Intervenantes pour les personnes victimes de violence",
            "Two support workers help people harmed by violence with safety plans, court dates and housing, "
            "in English and French, whether or not they call the police.",
            "Deux intervenantes aident les victimes de violence : plan de sécurité, audiences et logement, en "
            "français et en anglais, qu’elles appellent la police ou non."),
    Project(None, RESTORATIVE, 35_000, "Restorative justice training for neighbours",
            "Formation à la justice réparatrice pour les voisins",
            "Free evening courses where residents learn to settle conflicts between neighbours before they "
            "turn into police calls.",
            "Des cours du soir gratuits où les résidents apprennent à régler les conflits entre voisins avant "
            "qu’ils ne deviennent des appels à la police."),
)

YOUTH_PRIORITIES = (
    Project(None, YOUTH, 60_000, "Safe rides home after evening programs",
            "Retour sécuritaire après les activités du soir",
            "A minivan and a driver take young people home after evening programs at the community centres.",
            "Une fourgonnette et un chauffeur raccompagnent les jeunes après les activités du soir des "
            "centres communautaires."),
    Project(None, CRISIS, 70_000, "A youth worker on the crisis team",
            "Un intervenant jeunesse dans l’équipe de crise",
            "The mobile crisis team adds a youth worker, so that a teenager in crisis meets someone who works "
            "with young people every day.",
            "L’équipe mobile de crise accueille un intervenant jeunesse : un adolescent en crise rencontre "
            "quelqu’un qui travaille avec les jeunes tous les jours."),
    Project(None, RESTORATIVE, 40_000, "Peer mediators in every high school",
            "Des pairs médiateurs dans chaque école secondaire",
            "Students trained as mediators help classmates settle conflicts and stop bullying early.",
            "Des élèves formés à la médiation aident leurs camarades à régler leurs conflits et à faire "
            "cesser l’intimidation tôt."),
    Project(None, LIGHTING, 50_000, "Lights and benches at the skate park",
            "Éclairage et bancs au planchodrome",
            "Lights until 10 pm and covered benches at the Lakeview skate park, where young people meet in "
            "the evening.",
            "De l’éclairage jusqu’à 22 h et des bancs couverts au planchodrome de Lakeview, où les jeunes se "
            "retrouvent le soir."),
    Project(None, VICTIMS, 45_000, "A text line for young people harmed by violence",
            "Une ligne texto pour les jeunes victimes de violence",
            "Young people can text a counsellor about violence at home, at school or online, in English or "
            "French.",
            "Les jeunes peuvent écrire par texto à une intervenante au sujet de la violence à la maison, à "
            "l’école ou en ligne, en français ou en anglais."),
)

# The ballots the demo casts, as positions in the project list above (the first voter then changes
# their mind, so the log holds a replacement too).
SAFER_NIGHTS_BALLOTS = ((2, 7), (3, 4, 7), (2, 3, 9, 8), (7, 8), (3, 4, 9), (0, 1, 9, 8), (4, 7, 9), (2, 8))
SAFER_NIGHTS_VOTER = (RIVERSIDE, RIVERSIDE, RIVERSIDE, HARBOURFRONT, RIVERSIDE, HARBOURFRONT, RIVERSIDE, RIVERSIDE)
SAFER_NIGHTS_REVISION = (3, 4, 9, 8)
YOUTH_BALLOTS = ((1, 0, 2), (3, 1), (2, 4, 1), (0, 3, 2), (4,))


@dataclass(frozen=True)
class DemoCodes:
    """A batch of demo codes in clear, with what they open."""

    cycle: Cycle
    district: str | None  # the district's English name, None for the whole cycle
    codes: list[str]


def load_voting(session: Session, admin: User, staff: User, resident: User, categories, districts,
                timezone: str, now: datetime) -> None:
    """Both voting cycles with their projects and first ballots, and the resident as a voter."""
    today = utc_to_local(now, timezone).date()

    def at(days: int) -> datetime:
        return local_to_utc(datetime.combine(today + timedelta(days=days), time(9)), timezone)

    common = {"timezone": timezone, "categories": [CategoryInput(en, fr) for en, fr in categories]}
    safer = _cycle(
        session, admin, staff, SAFER_NIGHTS, at, now,
        CycleSettings(
            slug=KNAPSACK_SLUG,
            name_en="Lakeview Safer Nights 2026",
            name_fr="Nuits plus sûres à Lakeview 2026",
            description_en=(
                "Voting is open: Lakeview residents choose how to spend $400,000 on safety at night. Choose "
                "the projects you want, up to the budget: your district's projects and the city-wide ones."
            ),
            description_fr=(
                "Le vote est ouvert : les résidents de Lakeview choisissent comment dépenser 400 000 $ pour la "
                "sécurité la nuit. Choisissez les projets que vous voulez, jusqu’au budget : ceux de votre "
                "secteur et ceux de toute la ville."
            ),
            budget_cents=400_000_00,
            districts=[DistrictInput(en, fr) for en, fr in districts],
            **common,
            **_timeline(at, proposals=-70, review=-40, voting=-3, results=19),
            ballot=BallotConfig(BallotType.KNAPSACK, min_projects=1, tally_rule="mes", tally_completion="add1"),
        ),
    )
    youth = _cycle(
        session, admin, staff, YOUTH_PRIORITIES, at, now,
        CycleSettings(
            slug=RANKED_SLUG,
            name_en="Lakeview Youth Safety Priorities 2026",
            name_fr="Priorités jeunesse pour la sécurité à Lakeview 2026",
            description_en=(
                "Voting is open: rank up to three projects for young people's safety, your favourite first. "
                "$150,000 for the whole city."
            ),
            description_fr=(
                "Le vote est ouvert : classez jusqu’à trois projets pour la sécurité des jeunes, votre préféré "
                "en premier. 150 000 $ pour toute la ville."
            ),
            budget_cents=150_000_00,
            districts=[],
            **common,
            **_timeline(at, proposals=-60, review=-30, voting=-1, results=14),
            ballot=BallotConfig(
                BallotType.RANKED, min_projects=1, ranking_length=3, tally_rule="greedy", tally_utility="score"
            ),
        ),
    )
    for cycle, district in ((safer, RIVERSIDE), (youth, None)):
        _confirm(session, staff, cycle, resident, district, now)
    _cast(session, staff, safer, SAFER_NIGHTS_BALLOTS, SAFER_NIGHTS_VOTER, now)
    _cast(session, staff, youth, YOUTH_BALLOTS, (None,) * len(YOUTH_BALLOTS), now)
    session.flush()


def _timeline(at, *, proposals: int, review: int, voting: int, results: int) -> dict[str, datetime]:
    """Phase dates, in days from today; voting ends the day before results start."""
    return {
        "proposals_start_at": at(proposals),
        "proposals_end_at": at(review),
        "review_start_at": at(review),
        "review_end_at": at(voting),
        "voting_start_at": at(voting),
        "voting_end_at": at(results - 1),
        "results_start_at": at(results),
    }


def _cycle(session: Session, admin: User, staff: User, projects: tuple[Project, ...], at, now: datetime,
           settings: CycleSettings) -> Cycle:
    """The cycle, made during its review (its projects confirmed then), with voting recorded as entered."""
    cycle = get_cycle(session, settings.slug)
    if cycle is not None:
        return cycle
    made = settings.review_start_at + timedelta(days=7)
    cycle = create_cycle(session, admin, settings, now=made)
    for number, project in enumerate(projects):
        create_project(
            session, staff, cycle,
            ProjectInput(
                title_en=project.title_en,
                title_fr=project.title_fr,
                description_en=project.description_en,
                description_fr=project.description_fr,
                cost_cents=project.dollars * 100,
                district_id=None if project.district is None else cycle.districts[project.district].id,
                category_id=cycle.categories[project.category].id,
            ),
            made + timedelta(hours=number + 1),
        )
    advance(session, cycle, now)
    return cycle


def _confirm(session: Session, staff: User, cycle: Cycle, user: User, district: int | None, now: datetime) -> None:
    known = session.scalar(
        select(VoterEligibility.id).where(VoterEligibility.cycle_id == cycle.id, VoterEligibility.user_id == user.id)
    )
    if known is None:
        eligibility.confirm_voter(
            session, staff, cycle, user,
            basis=EligibilityBasis.IN_PERSON,
            district_id=None if district is None else cycle.districts[district].id,
            note="Lease shown at the Riverside community centre",
            birth_date=None,
            citizen=True,
            now=now,
        )


def _cast(session: Session, staff: User, cycle: Cycle, ballots, districts, now: datetime) -> None:
    """The demo's own ballots, cast with codes of a batch of their own, into an empty log only."""
    head = session.get(BallotLogHead, cycle.id)
    if head is None or head.count or not voting.voting_open(cycle, now):
        return
    # No district budgets: without a district, every project of the cycle, in their order.
    by_position = voting.ballot_projects(session, cycle, None)
    codes: dict[int | None, list[str]] = {}
    for district in dict.fromkeys(districts):  # one batch a district, as staff would hand them out
        district_id = None if district is None else cycle.districts[district].id
        size = districts.count(district)
        codes[district] = eligibility.create_code_batch(session, staff, cycle, size, district_id, CAST_LABEL, now).codes
    voters = [eligibility.code_voter(session, cycle, codes[district].pop()) for district in districts]
    ranked = cycle.ballot_config().ballot_type is BallotType.RANKED
    for voter, positions in zip(voters, ballots, strict=True):
        voting.cast_ballot(session, cycle, voter, _choices(by_position, positions, ranked), voting.new_nonce(), now)
    if cycle.slug == KNAPSACK_SLUG:
        voting.cast_ballot(
            session, cycle, voters[0], _choices(by_position, SAFER_NIGHTS_REVISION, ranked), voting.new_nonce(), now
        )


def _choices(projects, positions, ranked: bool) -> RawChoices:
    if ranked:
        return RawChoices(ranks={str(projects[p].id): str(rank) for rank, p in enumerate(positions, start=1)})
    return RawChoices(selected=tuple(str(projects[p].id) for p in positions))


def issue_demo_codes(session: Session, staff: User, now: datetime, *, fresh: bool) -> list[DemoCodes]:
    """Demo codes for both voting cycles, made if they have none (or, with ``fresh``, in place of the
    ones made before, which are voided): 10 a cycle, split between two districts in the knapsack cycle.

    Returns the codes made now (empty when the cycles had theirs and ``fresh`` is false).
    """
    made: list[DemoCodes] = []
    for slug, districts in ((KNAPSACK_SLUG, (RIVERSIDE, HARBOURFRONT)), (RANKED_SLUG, (None,))):
        cycle = get_cycle(session, slug)
        if cycle is None or not voting.voting_open(cycle, now):
            continue
        batches = session.scalars(
            select(VoterCodeBatch).where(
                VoterCodeBatch.cycle_id == cycle.id,
                VoterCodeBatch.label == CODES_LABEL,
                VoterCodeBatch.voided_at.is_(None),
            )
        ).all()
        if batches and not fresh:
            continue
        for batch in batches:
            eligibility.void_batch(session, staff, batch, "The demo codes file was lost; new codes were made.", now)
        size = CODES_PER_CYCLE // len(districts)
        for district in districts:
            district_id = None if district is None else cycle.districts[district].id
            batch = eligibility.create_code_batch(session, staff, cycle, size, district_id, CODES_LABEL, now)
            name = None if district is None else cycle.districts[district].name("en_CA")
            made.append(DemoCodes(cycle, name, batch.codes))
    session.flush()
    return made


def codes_text(made: list[DemoCodes], address) -> str:
    """The demo codes as ``pb demo`` prints and saves them: each cycle's voting address, then its codes
    in groups of four (``address(cycle)`` gives the address)."""
    lines = [
        "Demo voter codes: each opens one ballot (revision allowed: entering it again changes the ballot).",
        "Or sign in as the demo resident, a confirmed voter of both cycles.",
    ]
    shown: set[int] = set()
    for batch in made:
        if batch.cycle.id not in shown:
            shown.add(batch.cycle.id)
            lines += ["", f"{batch.cycle.name('en_CA')} ({batch.cycle.ballot_config().ballot_type.value} ballot)",
                      f"  vote at {address(batch.cycle)}"]
        lines.append(f"  {batch.district or 'city-wide'} voters:")
        lines += [f"    {display(code)}" for code in batch.codes]
    return "\n".join(lines) + "\n"
