"""Open data: one page listing every public file of every cycle with its SHA-256, and the files."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template

from pb.extensions import db_session
from pb.i18n import current_locale
from pb.opendata import bp
from pb.services import opendata, records
from pb.services.cycles import get_cycle
from pb.web import request_now


def _has(endpoint: str) -> bool:
    """Whether another part of the site serves ``endpoint`` (the ballot log, the election record)."""
    return endpoint in current_app.view_functions


@bp.get("/open-data")
def list_open_data():
    """Every cycle's files with their SHA-256, and each published result's signed election record.

    The list is kept as a rendered fragment until a cycle changes, opens its vote, publishes a result
    or gets its record made: each request reads two narrow queries (and stats the record files)."""
    session, now, locale = db_session(), request_now(), current_locale()
    state = opendata.catalogue_state(session, now)
    folder = current_app.config["RECORD_FOLDER"]
    record_files = {
        cycle.id: records.record_file(folder, cycle, state.results[cycle.id])
        for cycle in state.cycles
        if cycle.id in state.results
    }
    key = ("open-data", locale, state.key(), tuple(record_files.items()), _has("records.download_record"))
    listing = current_app.extensions["pb.fragments"](
        key,
        lambda: render_template(
            "opendata/_catalogue.html",
            catalogue=opendata.state_catalogue(session, state, now),
            record_files=record_files,
            locale=locale,
            has=_has,
        ),
    )
    return render_template("opendata/list_open_data.html", listing=listing, empty=not state.cycles)


@bp.get("/open-data/<slug>/<name>")
def download_file(slug: str, name: str):
    session = db_session()
    cycle = get_cycle(session, slug)
    if cycle is None:
        abort(404)
    [entry] = opendata.catalogue(session, [cycle], request_now()) or [None]
    found = next((f for f in entry.files if f.name == name), None) if entry else None
    if found is None:
        abort(404)
    response = Response(found.data, content_type=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.name}"'
    response.headers["X-Content-SHA256"] = found.sha256
    return response
