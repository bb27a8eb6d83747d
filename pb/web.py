"""What the views of every blueprint share: the request's clock and showing a broken rule on a form.

The request's single commit point is :meth:`pb.app.PbFlask.dispatch_request`: a view calls a
service inside :func:`domain_errors`, and never commits or rolls back itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, g, request

from pb.extensions import db_session
from pb.services.errors import FORM, DomainError


def request_now() -> datetime:
    """The time of this request, read once from the application's clock (tests can move it)."""
    if "pb_now" not in g:
        g.pb_now = current_app.extensions["pb.clock"]()
    return g.pb_now


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
