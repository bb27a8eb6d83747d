"""Staff pages of a vote: voter codes, confirmed voters, voiding a misused ballot, closing, integrity."""

from flask import Blueprint

bp = Blueprint("voters", __name__)

from pb.voters import views  # noqa: E402,F401  (registers the routes)
