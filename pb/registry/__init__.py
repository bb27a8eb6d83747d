from flask import Blueprint

bp = Blueprint("registry", __name__)

from pb.registry import views  # noqa: E402,F401  (registers the routes)
