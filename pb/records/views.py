"""The public election record of a cycle: its page, its download, and the signing key's fingerprint."""

from __future__ import annotations

from flask import abort, current_app, render_template, send_file

from pb.extensions import db_session
from pb.records import bp
from pb.services import records
from pb.services.cycles import get_cycle
from pb.services.results import current_result


@bp.app_template_global()
def record_key_fingerprint() -> str | None:
    """The fingerprint of the key that signs the election records (None when none is set up)."""
    return records.key_fingerprint(current_app.config["SIGNING_KEY_PATH"])


def _record(slug: str):
    session = db_session()
    cycle = get_cycle(session, slug)
    result = current_result(session, cycle) if cycle is not None else None
    if result is None:
        abort(404)  # nothing of the outcome is public before publication
    folder = current_app.config["RECORD_FOLDER"]
    try:
        path = records.cached_record(session, cycle, result.id, current_app.config["SIGNING_KEY_PATH"], folder)
    except records.SigningKeyMissing:
        current_app.logger.error("no election record for %s: no usable signing key", slug)
        abort(503)
    return cycle, result, path


@bp.get("/cycles/<slug>/record")
def show_record(slug: str):
    cycle, result, _path = _record(slug)
    return render_template(
        "records/show_record.html", cycle=cycle,
        record=records.record_file(current_app.config["RECORD_FOLDER"], cycle, result.id),
    )


@bp.get("/cycles/<slug>/record.zip")
def download_record(slug: str):
    cycle, _result, path = _record(slug)
    return send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=records.download_name(cycle),
        max_age=3600,
    )
