"""What the views of every blueprint share: the request's clock, showing a broken rule on a form, and
the glance at a cycle that public pages are kept under (read at most once per max age for visitors).

The request's single commit point is :meth:`pb.app.PbFlask.dispatch_request`: a view calls a
service inside :func:`domain_errors`, and never commits or rolls back itself.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, g, request
from flask_login import current_user

from pb.extensions import db_session
from pb.lru import LRU
from pb.services.cycles import CycleGlance, cycle_glance
from pb.services.errors import FORM, DomainError


def request_now() -> datetime:
    """The time of this request, read once from the application's clock (tests can move it)."""
    if "pb_now" not in g:
        g.pb_now = current_app.extensions["pb.clock"]()
    return g.pb_now


class RecentGlances:
    """Each cycle's glance as this process last read it, and when (``clock``: seconds, monotonic).

    A glance carries the cycle's version and proposal stamp, under which the public proposal pages are
    kept (:mod:`pb.fragments`, :class:`pb.services.proposal_index.ProposalIndex`). Reading it is the one
    query of a kept page; for visitors who are not signed in it is read at most once per ``max_age``
    seconds per process instead of on every request. Such a visitor cannot change anything, so a page
    that old cannot lack anything of theirs; everyone signed in reads it each time. Every read replaces
    the kept glance unless another thread kept a newer one of the same cycle meanwhile (a version and a
    stamp only go up), so the pages of a process never go back to an older stamp after a newer one (the
    proposal snapshot would be read again at each switch).
    """

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic, size: int = 256) -> None:
        self.max_age, self.clock = max_age, clock
        self._glances = LRU(size)  # slug -> (when read, glance); only cycles that exist
        self._lock = threading.Lock()  # a comparison and its replacement as one step

    def recent(self, slug: str) -> CycleGlance | None:
        """The glance read within ``max_age`` (None: none, or too old)."""
        entry = self._glances.get(slug)
        if entry is None or self.clock() - entry[0] >= self.max_age:
            return None
        return entry[1]

    def read(self, read: Callable[[], CycleGlance | None], slug: str) -> CycleGlance | None:
        """The glance ``read`` returns now, kept for the next visitors."""
        when = self.clock()  # before the read: what is kept is never older than its time says
        glance = read()
        if glance is not None and self.max_age > 0:
            with self._lock:
                kept = self._glances.get(slug)
                if kept is None or not _newer(kept[1], glance):
                    self._glances.put(slug, (when, glance))
        return glance


def _newer(one: CycleGlance, other: CycleGlance) -> bool:
    """Whether ``one`` saw the cycle ``other`` saw at a later state (never, for another cycle)."""
    return one.id == other.id and (one.version, one.proposal_stamp) > (other.version, other.proposal_stamp)


def visitor_glance(slug: str) -> CycleGlance | None:
    """The cycle ``slug`` at a glance for this request (None: no such cycle): read now for someone
    signed in, and for a visitor who is not, possibly as read up to ``PUBLIC_PAGE_MAX_AGE_MS`` ago."""
    glances: RecentGlances = current_app.extensions["pb.recent_glances"]
    if not current_user.is_authenticated:
        glance = glances.recent(slug)
        if glance is not None:
            return glance
    return glances.read(lambda: cycle_glance(db_session(), slug), slug)


# Plain page numbers below a million: far beyond any list, far below what an SQL OFFSET holds.
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def page_number() -> int:
    """The ``page`` query parameter: 1 when absent; anything but a plain page number is a 404."""
    raw = request.args.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(raw):
        abort(404)
    return int(raw)


def show_errors(form, error: DomainError) -> None:
    """Each message next to the field it is about, or above the form when no field has that name."""
    if hasattr(form, "show_errors"):  # forms with nested rows map the keys themselves
        form.show_errors(error.errors)
        return
    for name, messages in error.errors.items():
        if name != FORM and name in form:
            form[name].errors = [*form[name].errors, *messages]
        else:
            form.form_errors.extend(messages)


@dataclass
class Attempt:
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def domain_errors(form=None) -> Iterator[Attempt]:
    """Run service calls; a :class:`DomainError` undoes what they did and goes onto ``form``.

    ``with domain_errors(form) as attempt: service(...)`` then ``if attempt.ok: redirect``.
    """
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as error:
        db_session().rollback()
        attempt.error = error
        if form is not None:
            show_errors(form, error)
