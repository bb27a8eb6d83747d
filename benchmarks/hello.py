"""The baseline of ``pages.py``: the smallest Flask application, served exactly as pb is."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
