"""The baseline of ``cast.py``: a bare Flask endpoint doing one INSERT (and its commit), served exactly as pb is.

The table is made by ``cast.py`` before the workers start; the database is ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=5)
app = Flask(__name__)
TABLE = "bench_inserts"  # made by cast.py (INSERT_TABLE)


@app.get("/")
def ready() -> str:
    return "ready"


@app.post("/")
def insert() -> str:
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {TABLE} (body) VALUES (:body)"), {"body": "a ballot's worth of text"})
    return "inserted"
