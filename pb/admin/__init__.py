"""Administration: accounts and the roles granted to them."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from pb.admin import views  # noqa: E402,F401  (registers the routes)
