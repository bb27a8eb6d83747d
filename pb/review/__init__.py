"""Review pages for staff and budget delegates: the queue, a proposal's review, ballot projects."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from pb.review import views  # noqa: E402,F401  (registers the routes)
