from flask import Blueprint

bp = Blueprint("proposals", __name__)

# Registers the routes: views (proposals), deliberation_views (comments, supports, moderation).
from pb.proposals import deliberation_views, views  # noqa: E402,F401
