from flask import Blueprint

bp = Blueprint("opendata", __name__)

from pb.opendata import views  # noqa: E402,F401
