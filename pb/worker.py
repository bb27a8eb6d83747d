"""The background worker's round: record due phase transitions, queue the hourly batch of ballot
confirmations, seal the ballot logs of votes that are over (destroying their slot keys), delete
proposal photos no proposal names any more, make the signed election record of each newly published
result (so that the open-data page lists its SHA-256), then deliver due mail.

``pb worker`` runs rounds in production; in development and the demo a thread of the web process
does (:func:`pb.mail.start_delivery_thread`). Each task of a round that fails is logged and the
next round tries again (the database may be briefly away).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask

from pb.mail import deliver_now
from pb.services.outbox import DeliveryReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoundReport:
    transitions: int = 0
    mail: DeliveryReport | None = None
    sealed: int = 0


def advance_now(app: Flask) -> int:
    """Record every cycle's due phase transitions at the app's clock; returns how many."""
    from pb.services.transitions import advance_due

    return advance_due(app.extensions["pb.db"].session_factory, app.extensions["pb.clock"]())


def seal_now(app: Flask) -> int:
    """Seal the ballot log of every vote that is over at the app's clock; returns how many."""
    from pb.services.voting import seal_due

    return seal_due(app.extensions["pb.db"].session_factory, app.extensions["pb.clock"]())


def confirm_now(app: Flask) -> int:
    """Queue the hourly, shuffled batch of ballot confirmation mails; returns how many."""
    from pb.services.voting import send_confirmations

    return send_confirmations(app.extensions["pb.db"].session_factory, app.extensions["pb.clock"]())


def prune_photos(app: Flask) -> int:
    """Delete proposal photos no proposal names any more (after a day's grace); returns how many."""
    from sqlalchemy import select

    from pb import photos
    from pb.models import Proposal

    with app.extensions["pb.db"].session_factory() as session:
        referenced = set(session.scalars(select(Proposal.photo_name).where(Proposal.photo_name.is_not(None))))
    now = app.extensions["pb.clock"]().timestamp()
    return len(photos.prune(app.config["PHOTO_FOLDER"], referenced, now))


def build_records(app: Flask) -> int:
    """Make the signed election record of each newly published result; returns how many were made."""
    from pb.services.records import build_missing_records

    with app.extensions["pb.db"].session_factory() as session:
        return build_missing_records(session, app.config["SIGNING_KEY_PATH"], app.config["RECORD_FOLDER"])


def _counted(task, app: Flask, done: str, failed: str) -> int:
    """Run one counting task of the round; a failure is logged and counts as nothing done."""
    try:
        number = task(app)
    except Exception:
        log.exception(failed)
        return 0
    if number:
        log.info(done, number)
    return number


def run_round(app: Flask) -> RoundReport:
    transitions = _counted(advance_now, app, "phase transitions recorded: %d", "phase transition round failed")
    _counted(confirm_now, app, "ballot confirmations queued: %d", "ballot confirmation round failed")
    sealed = _counted(seal_now, app, "ballot logs sealed: %d", "ballot log sealing round failed")
    _counted(prune_photos, app, "unused photos deleted: %d", "photo pruning round failed")
    _counted(build_records, app, "election records made: %d", "election record round failed")
    mail = None
    try:
        mail = deliver_now(app)
        if mail.claimed:
            log.info("mail delivery: %s", mail)
    except Exception:
        log.exception("mail delivery round failed")
    return RoundReport(transitions, mail, sealed)


def run_until(app: Flask, stop: threading.Event, interval: float) -> None:
    """Run a round every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        run_round(app)
        stop.wait(interval)
