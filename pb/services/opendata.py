"""Open data: each cycle's ballot projects and published results as CSV and JSON files.

Projects are public from the moment voting opens (the ballot is frozen then); results once staff
publish them, never a draft. CSV cells that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a leading apostrophe;
JSON carries the values as they are. Amounts are in cents (integers), as everywhere in pb.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pb.models import BallotProject, Cycle, Result, ResultStatus
from pb.models.cycle import PhaseDates
from pb.services.cycles import CycleGlance, cycle_glances
from pb.services.results import standing_result_ids

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PROJECT_COLUMNS = (
    "project_id", "title_en", "title_fr", "cost_cents", "district", "category", "position",
)
RESULT_COLUMNS = (
    "project_id", "title_en", "title_fr", "budget", "cost_cents", "supporters", "score", "funded",
    "round", "reason_not_funded",
)


def neutralised(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(columns: tuple[str, ...], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralised(row.get(column)) for column in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets spreadsheets read UTF-8 accents


def _json(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class DataFile:
    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def projects_public(cycle: PhaseDates, now: datetime) -> bool:
    return cycle.voting_has_opened(now)


def _load_projects(session: Session, cycle_ids: list[int]) -> dict[int, list[BallotProject]]:
    """The confirmed projects of these cycles, in ballot order: one query for any number of cycles."""
    found: dict[int, list[BallotProject]] = {cycle_id: [] for cycle_id in cycle_ids}
    if not cycle_ids:
        return found
    rows = session.scalars(
        select(BallotProject)
        .where(BallotProject.cycle_id.in_(cycle_ids), BallotProject.confirmed_at.is_not(None))
        .options(joinedload(BallotProject.district), joinedload(BallotProject.category))
        .order_by(BallotProject.cycle_id, BallotProject.position, BallotProject.id)
    )
    for project in rows:
        found[project.cycle_id].append(project)
    return found


def _load_results(session: Session, cycle_ids: list[int]) -> dict[int, Result]:
    """The standing published result of each of these cycles (the latest published): one query."""
    found: dict[int, Result] = {}
    if not cycle_ids:
        return found
    rows = session.scalars(
        select(Result)
        .where(Result.cycle_id.in_(cycle_ids), Result.status == ResultStatus.PUBLISHED)
        .order_by(Result.published_at, Result.id)
    )
    for result in rows:
        found[result.cycle_id] = result  # later ones replace earlier ones
    return found


def _projects(rows: list[BallotProject]) -> list[dict]:
    return [
        {
            "project_id": p.id,
            "title_en": p.title_en,
            "title_fr": p.title_fr,
            "description_en": p.description_en,
            "description_fr": p.description_fr,
            "cost_cents": p.cost_cents,
            "district": p.district.slug if p.district else None,
            "category": p.category.slug if p.category else None,
            "position": p.position,
        }
        for p in rows
    ]


def project_files(cycle: Cycle, projects: list[BallotProject]) -> list[DataFile]:
    rows = _projects(projects)
    document = {"cycle": cycle.slug, "currency": cycle.currency, "projects": rows}
    return [
        DataFile(f"{cycle.slug}-projects.csv", "text/csv; charset=utf-8", _csv(PROJECT_COLUMNS, rows)),
        DataFile(f"{cycle.slug}-projects.json", "application/json", _json(document)),
    ]


def result_files(cycle: Cycle, projects_of_cycle: list[BallotProject], result: Result | None) -> list[DataFile]:
    """The published result's files (empty before publication)."""
    if result is None:
        return []
    projects = {str(p["project_id"]): p for p in _projects(projects_of_cycle)}
    counts = json.loads(result.outcome)["counts"]
    rows = []
    for count in counts:
        outcome = count["outcome"]
        budget = count["district"] or "city"
        rounds = {r["project_id"]: r for r in outcome["rounds"]}
        passed = {p["project_id"]: p for p in outcome["passed_over"]}
        for project_id in sorted(set(rounds) | set(passed), key=lambda i: (i not in rounds, int(i) if i.isdigit() else 0)):
            info = rounds.get(project_id) or passed.get(project_id)
            project = projects.get(project_id, {})
            rows.append(
                {
                    "project_id": project_id,
                    "title_en": project.get("title_en", ""),
                    "title_fr": project.get("title_fr", ""),
                    "budget": budget,
                    "cost_cents": project.get("cost_cents"),
                    "supporters": info.get("supporters"),
                    "score": info.get("score"),
                    "funded": "yes" if project_id in rounds else "no",
                    "round": rounds[project_id].get("number") if project_id in rounds else None,
                    "reason_not_funded": passed[project_id].get("reason") if project_id in passed else None,
                }
            )
    document = {
        "cycle": cycle.slug,
        "currency": cycle.currency,
        "result_id": result.id,
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "corrects": result.corrects_id,
        "correction_reason": result.correction_reason or None,
        "ballots_counted": result.counted,
        "ballot_log_head": result.log_head,
        "ballot_configuration": json.loads(result.ballot_config),
        "software_version": result.software_version,
        "counts": counts,
    }
    return [
        DataFile(f"{cycle.slug}-results.csv", "text/csv; charset=utf-8", _csv(RESULT_COLUMNS, rows)),
        DataFile(f"{cycle.slug}-results.json", "application/json", _json(document)),
    ]


@dataclass(frozen=True)
class CycleData:
    cycle: Cycle
    files: list[DataFile]
    result: Result | None


def catalogue(session: Session, cycles: list[Cycle], now: datetime) -> list[CycleData]:
    """The open-data files of every cycle whose voting has opened (three queries, however many cycles)."""
    public = [cycle for cycle in cycles if projects_public(cycle, now)]
    ids = [cycle.id for cycle in public]
    projects, results = _load_projects(session, ids), _load_results(session, ids)
    return [
        CycleData(
            cycle,
            project_files(cycle, projects[cycle.id]) + result_files(cycle, projects[cycle.id], results.get(cycle.id)),
            results.get(cycle.id),
        )
        for cycle in public
    ]


@dataclass(frozen=True)
class CatalogueState:
    """What the open-data page's files depend on, read in two narrow queries: the cycles whose voting has
    opened (their projects are frozen from then on) at a glance, and each one's standing result."""

    cycles: list[CycleGlance]
    results: dict[int, int]  # cycle id -> standing published result id

    def key(self) -> tuple:
        return tuple((cycle.id, cycle.version, self.results.get(cycle.id)) for cycle in self.cycles)


def catalogue_state(session: Session, now: datetime) -> CatalogueState:
    public = [cycle for cycle in cycle_glances(session) if projects_public(cycle, now)]
    return CatalogueState(public, standing_result_ids(session, [cycle.id for cycle in public]) if public else {})


def state_catalogue(session: Session, state: CatalogueState, now: datetime) -> list[CycleData]:
    """The files of the cycles of ``state`` (the cycles loaded only now: a kept page never needs them)."""
    if not state.cycles:
        return []
    loaded = {
        cycle.id: cycle
        for cycle in session.scalars(select(Cycle).where(Cycle.id.in_([c.id for c in state.cycles]))
                                     .options(joinedload(Cycle.closures))).unique()
    }
    return catalogue(session, [loaded[c.id] for c in state.cycles if c.id in loaded], now)
