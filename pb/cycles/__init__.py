from flask import Blueprint

bp = Blueprint("cycles", __name__)

from pb.cycles import views  # noqa: E402,F401  (registers the routes)
