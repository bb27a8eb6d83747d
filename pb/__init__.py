"""pb: participatory budgeting for community safety."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application (imported lazily so that ``pb.tally`` never loads Flask)."""
    from pb.app import build_app

    return build_app(overrides)
