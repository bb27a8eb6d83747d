"""Fixtures for the tally tests: hypothesis profiles and the shared pabulib files.

Hypothesis profiles are registered once, in ``tests/conftest.py``.

The 40 real elections live in ``PB_PABULIB_DIR`` (default ``<repo>/../shared/pabulib``).
A test that takes the ``pabulib_file`` fixture runs once per ``.pb`` file there, and one
that takes ``pabulib_dir`` gets the folder. When the folder is missing such tests are
skipped with the reason shown, except in CI (``CI`` or ``PB_REQUIRE_PABULIB`` set to a
non-empty value other than ``0``/``false``), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PABULIB_DIR = Path(os.environ.get("PB_PABULIB_DIR") or REPO.parent / "shared" / "pabulib")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def pabulib_required() -> bool:
    return _flag("CI") or _flag("PB_REQUIRE_PABULIB")


def pabulib_files() -> list[Path]:
    return sorted(PABULIB_DIR.glob("*.pb")) if PABULIB_DIR.is_dir() else []


def missing_pabulib() -> None:
    """Fail (CI) or skip (elsewhere) because the pabulib files are not there."""
    reason = f"the pabulib files are missing: no *.pb in {PABULIB_DIR} (set PB_PABULIB_DIR)"
    if pabulib_required():
        pytest.fail(reason)
    pytest.skip(reason)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "pabulib_file" in metafunc.fixturenames:
        files = pabulib_files()
        if files:
            metafunc.parametrize("pabulib_file", files, ids=[f.stem for f in files], indirect=True)
        else:
            metafunc.parametrize("pabulib_file", [None], ids=["pabulib-missing"], indirect=True)


@pytest.fixture
def pabulib_file(request: pytest.FixtureRequest) -> Path:
    if request.param is None:
        missing_pabulib()
    return request.param


@pytest.fixture(scope="session")
def pabulib_dir() -> Path:
    if not pabulib_files():
        missing_pabulib()
    return PABULIB_DIR
