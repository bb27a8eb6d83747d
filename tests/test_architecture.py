"""The dependency direction from DESIGN.md, read from the imports of every module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pb"
BLUEPRINTS = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "views.py").exists())


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[: -node.level])
                modules.add(f"{package}.{node.module}" if node.module else package)
            elif node.module:
                modules.add(node.module)
    return modules


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_checks_see_the_code():
    assert python_files(PACKAGE / "tally")
    assert {"auth", "cycles", "staff"} <= set(BLUEPRINTS)


# Modules the offline tools (pb tally, pb audit) run on, and the value modules every layer shares:
# the standard library and each other only.
STDLIB_ONLY = [
    *python_files(PACKAGE / "tally"),
    PACKAGE / "hashchain.py",
    PACKAGE / "ballot.py",
    PACKAGE / "values.py",
    PACKAGE / "voter_codes.py",
    PACKAGE / "registry_identity.py",
]
STDLIB_ONLY_PB = ("pb.tally", "pb.hashchain", "pb.ballot", "pb.values", "pb.voter_codes")


@pytest.mark.parametrize("path", STDLIB_ONLY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_offline_modules_import_only_the_standard_library(path):
    for module in imported_modules(path):
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or module.startswith(STDLIB_ONLY_PB), (
            f"{path.name} imports {module}"
        )


@pytest.mark.parametrize("path", python_files(PACKAGE / "models"), ids=lambda p: p.name)
def test_models_do_not_import_flask_services_or_blueprints(path):
    forbidden = ("flask", "flask_login", "flask_wtf", "flask_babel", "pb.services", "pb.extensions")
    forbidden += tuple(f"pb.{name}" for name in BLUEPRINTS)
    for module in imported_modules(path):
        assert not module.startswith(forbidden), f"{path.name} imports {module}"


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_blueprints_do_not_import_each_other(blueprint):
    others = tuple(f"pb.{name}" for name in BLUEPRINTS if name != blueprint)
    for path in python_files(PACKAGE / blueprint):
        for module in imported_modules(path):
            assert not any(module == other or module.startswith(other + ".") for other in others), (
                f"{path.relative_to(PACKAGE)} imports {module}"
            )


# Shared by several blueprints (the cycle pages now, results later), so they may import none of them.
SHARED = ["ballot.py", "values.py", "labels.py", "explain.py"]


@pytest.mark.parametrize("name", SHARED)
def test_shared_modules_import_no_blueprint(name):
    blueprints = tuple(f"pb.{blueprint}" for blueprint in BLUEPRINTS)
    for module in imported_modules(PACKAGE / name):
        assert not any(module == bp or module.startswith(bp + ".") for bp in blueprints), (
            f"{name} imports {module}"
        )


# The one bridge from database rows to pb.tally, and the offline command and its launcher.
TALLY_BRIDGES = {"services/results.py", "tally_command.py", "cli.py"}


@pytest.mark.parametrize(
    "path",
    [p for p in python_files(PACKAGE) if not p.is_relative_to(PACKAGE / "tally")],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_the_bridges_import_the_tally(path):
    if str(path.relative_to(PACKAGE)) in TALLY_BRIDGES:
        return
    for module in imported_modules(path):
        assert not (module == "pb.tally" or module.startswith("pb.tally.")), f"{path.name} imports {module}"


@pytest.mark.parametrize("path", python_files(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_sees_two_phases(path):
    """``pb.tally``'s counting phase and a cycle's phase (``pb.models``) never meet under one name."""
    sources = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == "Phase":
                    sources.add("tally" if node.module.startswith("pb.tally") else node.module)
    assert len(sources) <= 1, f"{path.name} imports Phase from {sorted(sources)}"


@pytest.mark.parametrize("path", python_files(PACKAGE / "services"), ids=lambda p: p.name)
def test_services_do_not_read_the_request(path):
    source = path.read_text(encoding="utf-8")
    blueprints = tuple(f"pb.{name}" for name in BLUEPRINTS)
    for module in imported_modules(path):
        assert not any(module == bp or module.startswith(bp + ".") for bp in blueprints), (
            f"{path.name} imports {module}"
        )
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            names = {alias.name for alias in node.names}
            assert not names & {"request", "g", "session"}, f"{path.name} reads flask {names}"


def test_pb_tally_loads_neither_flask_nor_the_database():
    import subprocess

    code = (
        "import sys\n"
        "from pb.cli import main\n"
        "try:\n"
        "    main(['tally', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'click', 'werkzeug'})\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
