from flask import Blueprint

bp = Blueprint("staff", __name__)

from pb.staff import views  # noqa: E402,F401  (registers the routes)
