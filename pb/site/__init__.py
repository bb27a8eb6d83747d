"""Site-wide pages: the language switch and the health check."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from pb.site import views  # noqa: E402,F401  (registers the routes)
