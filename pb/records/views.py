"""The public election record of a cycle: its page, its download, and the signing key's fingerprint."""

from __future__ import annotations

import hashlib

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
    if cycle is None or current_result(session, cycle) is None:
        abort(404)  # nothing of the outcome is public before publication
    try:
        path = records.cached_record(
            session, cycle, current_app.config["SIGNING_KEY_PATH"], current_app.config["RECORD_FOLDER"]
        )
    except records.SigningKeyMissing:
        current_app.logger.error("no election record for %s: no usable signing key", slug)
        abort(503)
    return cycle, path


@bp.get("/cycles/<slug>/record")
def show_record(slug: str):
    cycle, path = _record(slug)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return render_template(
        "records/show_record.html", cycle=cycle, sha256=digest.hexdigest(), size=path.stat().st_size
    )


@bp.get("/cycles/<slug>/record.zip")
def download_record(slug: str):
    _cycle, path = _record(slug)
    return send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=f"{slug}-election-record.zip",
        max_age=3600,
    )
