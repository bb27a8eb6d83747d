from flask import Blueprint

bp = Blueprint("records", __name__)

from pb.records import views  # noqa: E402,F401  (registers the routes)
