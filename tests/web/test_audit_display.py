"""The staff audit page reads like the cycle form, in English and French; the CSV keeps the raw values."""

from __future__ import annotations

import csv
import io
import json

import pytest

from pb.audit_display import ValueFormat, display_value
from pb.services.audit import record_change

ENGLISH = {"Accept-Language": "en-CA"}
FRENCH = {"Accept-Language": "fr-CA"}

BEFORE = {
    "budget_cents": 25_000_000,
    "voting_start_at": "2026-06-05T16:00:00+00:00",
    "allow_revision": True,
    "ballot_type": "approval",
    "tie_break": "cost",
    "min_budget_share_percent": 25,
    "districts": [{"slug": "north", "name_en": "North", "name_fr": "Nord", "budget_cents": 100_000}],
    "categories": [{"slug": "parks", "name_en": "Parks", "name_fr": "Parcs"}],
}
AFTER = {
    "budget_cents": 30_000_050,
    "voting_start_at": "2026-06-01T16:30:00+00:00",
    "allow_revision": False,
    "ballot_type": "ranked",
    "tie_break": "refuse",
    "min_budget_share_percent": None,
    "districts": [],
    "categories": [
        {"slug": "parks", "name_en": "Parks", "name_fr": "Parcs"},
        {"slug": "roads", "name_en": "Roads", "name_fr": "Routes"},
    ],
}


@pytest.fixture
def changed_cycle(make_user, make_cycle, session, log_in):
    """A Vancouver cycle (UTC-7 in June) whose settings changed, and a role granted: the newest entries."""
    staff = log_in(make_user("staff@example.org", roles=["staff"], display_name="Sam Staff"))
    cycle = make_cycle(staff, name_en="Lakeview 2026", name_fr="Lac-Vue 2026", timezone="America/Vancouver")
    record_change(session, staff, "cycle.update", "cycle", cycle.id, BEFORE, AFTER)
    session.commit()
    return cycle


def changes_of_newest(client, headers) -> str:
    body = client.get("/staff/audit-log", headers=headers).text
    table = body[body.index("<tbody>") :]
    return table[: table.index("</tr>")]


def test_changes_read_with_labels_money_local_dates_and_words(client, changed_cycle):
    changes = changes_of_newest(client, ENGLISH)
    for shown in [
        "<dt>Budget</dt>",
        "Before: $250,000.00",
        "After: $300,000.50",
        "<dt>Voting opens</dt>",
        "Before: June 5, 2026, 9:00\u202fa.m.",  # 16:00 UTC in Vancouver's summer time
        "After: June 1, 2026, 9:30\u202fa.m.",
        "<dt>Voters may change their ballot until voting closes</dt>",
        "Before: Yes",
        "After: No",
        "Before: approval",
        "After: ranked",
        "Before: 25%",
        "Before: North ($1,000.00)",
        "After: Parks and Roads",
        "After: Do not break ties: counting stops and names the tied projects",
        "Cycle: Lakeview 2026",
    ]:
        assert shown in changes, shown
    for raw in ("budget_cents", "voting_start_at", "allow_revision", "2026-06-05T16:00", "25000000", "True"):
        assert raw not in changes, raw


def test_changes_read_in_french(client, changed_cycle):
    changes = changes_of_newest(client, FRENCH)
    for shown in [
        "<dt>Budget</dt>",
        "Avant : 250\u00a0000,00\u00a0$",
        "Après : 300\u00a0000,50\u00a0$",
        "<dt>Début du vote</dt>",
        "Avant : 5 juin 2026, 9 h",
        "Après : 1er juin 2026, 9 h 30",
        "Avant : Oui",
        "Après : Non",
        "Avant : approbation",
        "Après : préférentiel",
        "Avant : 25\u00a0%",
        "Avant : Nord (1\u00a0000,00\u00a0$)",
        "Après : Parcs et Routes",
        "<dt>Bris d’égalité</dt>",
        "Cycle : Lac-Vue 2026",
    ]:
        assert shown in changes, shown
    assert "Voting opens" not in changes and "Yes" not in changes


def test_role_names_and_account_changes_are_translated(client, make_user, session, log_in):
    log_in(make_user("admin@example.org", roles=["admin"]))
    make_user("amira@example.org", roles=["staff", "auditor"], display_name="Amira")
    english = client.get("/staff/audit-log", headers=ENGLISH).text
    assert "Before: Resident and Staff</dd>" in english  # in the order of the admin pages, not by name
    assert "After: Resident, Staff and Auditor</dd>" in english
    assert "<dt>Roles</dt>" in english and "Granted a role" in english
    french = client.get("/staff/audit-log", headers=FRENCH).text
    assert "<dt>Rôles</dt>" in french and "Attribution d’un rôle" in french
    assert "Après : Personne résidente, Personnel et Personne vérificatrice</dd>" in french


def test_the_csv_keeps_the_recorded_values(client, changed_cycle):
    response = client.get("/staff/audit-log.csv?action=cycle.update", headers=FRENCH)
    row = next(csv.DictReader(io.StringIO(response.text)))
    assert json.loads(row["after_json"]) == AFTER and json.loads(row["before_json"]) == BEFORE
    assert row["created_at_utc"].endswith("+00:00")


def test_values_this_version_cannot_read_are_shown_as_stored(app):
    with app.test_request_context(headers=ENGLISH):
        assert display_value("ballot_type", "pairwise") == "pairwise"
        assert display_value("roles", ["emperor"]) == "emperor"
        assert display_value("voting_start_at", "not a date") == "not a date"
        assert display_value("budget_cents", None) == "A budget for each district"
        assert display_value("max_projects", None) == "—"
        assert display_value("budget_cents", 12345, ValueFormat(currency="EUR")) == "€123.45"
        assert display_value("active", False) == "No"
        assert display_value("something_new", {"a": [1, 2]}) == "a: 1 and 2"


def test_a_rekey_reads_as_such(client, make_user, session, log_in):
    log_in(make_user("auditor@example.org", roles=["auditor"]))
    old, new = {"count": 4, "hash": "a" * 64}, {"count": 4, "hash": "b" * 64, "unkeyed": 3, "old_key": 0}
    record_change(session, None, "audit_log.rekeyed", "audit_log", "head", old, new)
    session.commit()
    changes = changes_of_newest(client, FRENCH)
    assert "Nouvelle signature du journal de vérification" in changes
    assert "<dt>Entrées qui n’avaient pas de clé</dt>" in changes and "Après : 3</dd>" in changes
    assert f"Avant : {'a' * 64}" in changes and "head" not in changes
