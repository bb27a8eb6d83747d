"""Open data: one page listing every public file of every cycle with its SHA-256, and the files."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template

from pb.extensions import db_session
from pb.i18n import current_locale
from pb.opendata import bp
from pb.services import opendata
from pb.services.cycles import get_cycle, list_cycles
from pb.web import request_now


def _has(endpoint: str) -> bool:
    """Whether another part of the site serves ``endpoint`` (the ballot log, the election record)."""
    return endpoint in current_app.view_functions


@bp.get("/open-data")
def list_open_data():
    session, now = db_session(), request_now()
    return render_template(
        "opendata/list_open_data.html",
        catalogue=opendata.catalogue(session, list_cycles(session), now),
        locale=current_locale(),
        has=_has,
    )


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
