"""The voter registry: importing a CSV as keyed hashes, the report's reasons, and residents matching it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, select, update

from pb.db import Base
from pb.models import (
    AuditLogEntry,
    EligibilityBasis,
    VoterEligibility,
    VoterRegistryEntry,
    VoterRegistryImport,
)
from pb.services import eligibility, registry
from pb.services.cycles import DistrictInput
from pb.services.errors import DomainError
from tests.factories import create_account, make_cycle

HEADER = "last_name,first_names,birth_date,postal_code,district,citizen"
PEOPLE = [
    ("Côté-Léger", "Marie-Ève", "1980-05-17", "H2X 1Y4", "north", "yes"),
    ("Tremblay", "Jean", "1975-01-02", "h3z2y7", "Sud", "oui"),
    ("O'Neil", "Siobhan", "1990-12-31", "K1A 0B1", "Nord", "yes"),
]


def csv_text(rows=PEOPLE, header=HEADER, delimiter=","):
    lines = [header.replace(",", delimiter)]
    lines += [delimiter.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.org", roles=["staff"])


@pytest.fixture
def cycle(session, now):
    return make_cycle(session, now=now, phase="review", slug="reg-cycle")


def do_import(session, staff, cycle, data, now, name="registry.csv"):
    report = registry.import_registry(session, staff, cycle, data, name, now)
    session.commit()
    return report


def reasons(report):
    return [(r.line, r.column, r.reason.value) for r in report.rejections]


def match(session, user, cycle, now, last="cote leger", first="marie eve", birth=date(1980, 5, 17), postal="H2X1Y4"):
    return registry.match_registry(
        session, user, cycle, last_name=last, first_names=first, birth_date=birth, postal_code=postal, now=now
    )


def test_an_import_stores_only_digests_and_districts(session, staff, cycle, now):
    report = do_import(session, staff, cycle, csv_text(), now)
    assert (report.accepted, report.rejected) == (3, 0)
    entries = session.scalars(select(VoterRegistryEntry).order_by(VoterRegistryEntry.id)).all()
    assert [e.district.slug for e in entries] == ["north", "south", "north"]
    assert all(len(e.digest) == 64 and e.matched_at is None for e in entries)


def test_nothing_of_the_file_is_in_clear_in_the_new_tables(session, staff, cycle, now):
    rows = [*PEOPLE, ("Young", "Kid", "2020-01-01", "H2X 1Y4", "north", "yes")]
    do_import(session, staff, cycle, csv_text(rows), now, name="list.csv")
    match(session, create_account(session, "marie@example.org"), cycle, now)
    session.commit()
    secrets = set()
    for last, first, birth, postal, *_ in rows:
        secrets |= {last, first, birth, birth.replace("-", ""), postal, postal.replace(" ", ""),
                    registry.name_key(last), registry.name_key(first)}
    secrets = {secret.casefold() for secret in secrets if len(secret) >= 4}
    tables = ["voter_registry_entries", "voter_registry_imports", "voter_eligibilities", "audit_log_entries"]
    for name in tables:
        table = Base.metadata.tables[name]
        assert {c["name"] for c in inspect(session.bind).get_columns(name)} == set(table.c.keys())
        for record in session.execute(select(table)):
            for value in record:
                text = str(value).casefold()
                assert not any(secret in text for secret in secrets), (name, value)


def test_rows_are_rejected_with_line_column_and_reason(session, staff, make_user, now):
    cycle = make_cycle(
        session, now=now, phase="review", slug="strict", min_voting_age=16, noncitizens_may_vote=False,
        budget_cents=None, districts=[DistrictInput("North", "Nord", 50_000_00), DistrictInput("South", "Sud", 50_000_00)],
    )
    last_day = cycle.voting_end_at.date()
    sixteen = last_day.replace(year=last_day.year - 16)
    too_young = sixteen + timedelta(days=1)
    rows = [
        ("Ok", "Person", "1980-01-01", "H2X1Y4", "north", "yes"),  # line 2
        ("", "Person", "1980-01-01", "H2X1Y4", "north", "yes"),  # 3
        ("Ok", "---", "1980-01-01", "H2X1Y4", "north", "yes"),  # 4
        ("Ok", "Other", "1980-02-30", "H2X1Y4", "north", "yes"),  # 5
        ("Ok", "Other", "17/05/1980", "H2X1Y4", "north", "yes"),  # 6
        ("Ok", "Other", "1980-01-01", "12345", "north", "yes"),  # 7
        ("Ok", "Other", "1980-01-01", "H2X1Y4", "east", "yes"),  # 8
        ("Ok", "Other", "1980-01-01", "H2X1Y4", "", "yes"),  # 9: districts have budgets
        ("Ok", "Other", "1980-01-01", "H2X1Y4", "north", "non"),  # 10
        ("Ok", "Other", "1980-01-01", "H2X1Y4", "north", "maybe"),  # 11
        ("Ok", "Teen", too_young.isoformat(), "H2X1Y4", "north", "yes"),  # 12
        ("Ok", "Sixteen", sixteen.isoformat(), "H2X1Y4", "north", "yes"),  # 13: 16 on the last day
        ("OK", "person", "1980-01-01", "h2x 1y4", "Nord", "Oui"),  # 14: line 2 again
        ("Ok", "Other", "1980-01-01", "H2X1Y4", "north", "yes", "surplus"),  # 15
    ]
    report = do_import(session, staff, cycle, csv_text(rows), now)
    assert (report.accepted, report.rejected) == (2, 12)
    assert reasons(report) == [
        (3, "last_name", "missing"),
        (4, "first_names", "bad_name"),
        (5, "birth_date", "bad_date"),
        (6, "birth_date", "bad_date"),
        (7, "postal_code", "bad_postal_code"),
        (8, "district", "unknown_district"),
        (9, "district", "missing"),
        (10, "citizen", "not_citizen"),
        (11, "citizen", "bad_citizen"),
        (12, "birth_date", "under_age"),
        (14, "", "duplicate"),
        (15, "", "extra_cells"),
    ]
    state = registry.registry_state(session, cycle)
    assert [(r.line, r.reason) for r in state.rejections] == [(r.line, r.reason) for r in report.rejections]
    assert state.entries == 2 and state.matched == 0
    assert all(str(r.message) for r in report.rejections)


def test_the_audit_log_has_counts_only(session, staff, cycle, now):
    report = do_import(session, staff, cycle, csv_text([*PEOPLE, ("", "x", "1980-01-01", "H2X1Y4", "north", "yes")]), now)
    entry = session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "voter_registry.import"))
    assert entry.subject_id == str(report.record.id)
    after = json.loads(entry.after) if isinstance(entry.after, str) else entry.after
    assert after == {"cycle": "reg-cycle", "accepted": 3, "rejected": 1, "replaced": 0, "matched_not_in_file": 0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"last_name,first_names\r\nA,B\r\n", "birth_date, postal_code"),
        (b"last_name\x00,first_names", "NUL"),
        ("\ufefflast_name,first_names,birth_date,postal_code\r\n\"open,quote\r\n".encode(), "Line 2"),
        (b"\x81\x8d\x8f\x90\x9d", "cannot be read"),
    ],
)
def test_unreadable_files_are_refused_whole(session, staff, cycle, now, data, message):
    with pytest.raises(DomainError) as raised:
        registry.import_registry(session, staff, cycle, data, "x.csv", now)
    assert message in str(raised.value) and raised.value.field == "file"


def test_size_and_row_limits(session, staff, cycle, now, monkeypatch):
    with pytest.raises(DomainError, match="larger than 10 MB"):
        registry.import_registry(session, staff, cycle, b"x" * (registry.MAX_FILE_BYTES + 1), "x.csv", now)
    monkeypatch.setattr(registry, "MAX_ROWS", 2)
    with pytest.raises(DomainError, match="more than 2 rows"):
        registry.import_registry(session, staff, cycle, csv_text(), "x.csv", now)


def test_bom_semicolons_and_windows_1252_are_read(session, staff, cycle, now):
    utf8 = b"\xef\xbb\xbf" + csv_text(delimiter=";")
    assert do_import(session, staff, cycle, utf8, now).accepted == 3
    latin = csv_text(delimiter=";").decode().encode("cp1252")
    report = do_import(session, staff, cycle, latin, now)
    assert report.accepted == 3
    user = create_account(session, "marie@example.org")
    match(session, user, cycle, now)  # "Côté-Léger" read from Windows-1252 is the same person


def test_only_staff_import(session, cycle, now):
    resident = create_account(session, "someone@example.org")
    with pytest.raises(DomainError, match="Only staff"):
        registry.import_registry(session, resident, cycle, csv_text(), "x.csv", now)


@pytest.mark.parametrize(
    ("last", "first", "postal"),
    [("cote leger", "marie eve", "H2X1Y4"), ("CÔTÉ LÉGER", "Marie-Ève", "h2x 1y4"), ("Cote-Leger", "MARIE EVE", "h2x-1y4")],
)
def test_a_resident_matches_however_they_write_their_details(session, staff, cycle, now, last, first, postal):
    do_import(session, staff, cycle, csv_text(), now)
    user = create_account(session, "marie@example.org")
    row = match(session, user, cycle, now, last=last, first=first, postal=postal)
    session.commit()
    assert row.basis is EligibilityBasis.REGISTRY and row.confirmed_by_id is None
    assert row.note == "Matched the voter registry" and row.district.slug == "north"
    voter = eligibility.account_voter(session, cycle, user)
    assert voter is not None and voter.district_id == row.district_id
    entry = session.scalar(select(VoterRegistryEntry).where(VoterRegistryEntry.matched_user_id == user.id))
    assert entry.matched_at is not None
    audit = session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "voter.registry_match"))
    assert audit.actor_id == user.id


def test_no_match_does_not_say_which_detail_differs(session, staff, cycle, now):
    do_import(session, staff, cycle, csv_text(), now)
    user = create_account(session, "marie@example.org")
    for wrong in ({"last": "Cote"}, {"birth": date(1980, 5, 18)}, {"postal": "H2X1Y5"}):
        with pytest.raises(DomainError) as raised:
            match(session, user, cycle, now, **wrong)
        session.rollback()
        assert raised.value.field == "" and raised.value.message == registry.NO_MATCH
    assert session.scalar(select(func.count()).select_from(VoterEligibility)) == 0


def test_a_second_account_with_the_same_details_is_refused(session, staff, cycle, now):
    do_import(session, staff, cycle, csv_text(), now)
    first, second = create_account(session, "a@example.org"), create_account(session, "b@example.org")
    match(session, first, cycle, now)
    session.commit()
    with pytest.raises(DomainError) as raised:
        match(session, second, cycle, now)
    assert raised.value.message == registry.TAKEN
    session.rollback()
    with pytest.raises(DomainError, match="already"):
        match(session, first, cycle, now)


def test_a_line_without_its_account_stays_used(session, staff, cycle, now):
    """What ``ON DELETE SET NULL`` would leave if the account went: the line still confirms no one else."""
    do_import(session, staff, cycle, csv_text(), now)
    first, second = create_account(session, "a@example.org"), create_account(session, "b@example.org")
    match(session, first, cycle, now)
    session.commit()
    session.execute(update(VoterRegistryEntry).values(matched_user_id=None))
    session.commit()
    with pytest.raises(DomainError) as raised:
        match(session, second, cycle, now)
    assert raised.value.message == registry.TAKEN


def test_unconfirmed_e_mail_and_revoked_voters_are_refused(session, staff, cycle, now):
    do_import(session, staff, cycle, csv_text(), now)
    unconfirmed = create_account(session, "new@example.org", confirmed=False)
    with pytest.raises(DomainError, match="onfirm"):
        match(session, unconfirmed, cycle, now)
    session.rollback()
    user = create_account(session, "marie@example.org")
    row = match(session, user, cycle, now)
    eligibility.revoke_voter(session, staff, row, "Moved away", now)
    session.commit()
    with pytest.raises(DomainError, match="withdrew"):
        match(session, user, cycle, now)


def test_bad_details_are_named(session, staff, cycle, now):
    do_import(session, staff, cycle, csv_text(), now)
    user = create_account(session, "marie@example.org")
    with pytest.raises(DomainError) as raised:
        match(session, user, cycle, now, postal="nowhere")
    assert raised.value.field == "postal_code"
    with pytest.raises(DomainError) as raised:
        match(session, user, cycle, now, birth=None)
    assert raised.value.field == "birth_date"


def test_a_new_import_replaces_unmatched_lines_and_keeps_matched_ones(session, staff, cycle, now):
    first_import = do_import(session, staff, cycle, csv_text(), now)
    user = create_account(session, "marie@example.org")
    match(session, user, cycle, now)
    session.commit()
    # The new file lists Tremblay and a newcomer, but no longer Côté-Léger (matched) nor O'Neil.
    report = do_import(session, staff, cycle, csv_text([PEOPLE[1], ("New", "Person", "1970-03-03", "H2X1Y4", "south", "yes")]), now)
    assert report.record.entries_replaced == 2 and report.matched_not_in_file == 1
    state = registry.registry_state(session, cycle)
    assert (state.entries, state.matched, state.last_import.id) == (3, 1, report.record.id)
    kept = session.scalar(select(VoterRegistryEntry).where(VoterRegistryEntry.matched_user_id == user.id))
    assert kept.import_id == first_import.record.id
    other = create_account(session, "siobhan@example.org")
    with pytest.raises(DomainError) as raised:
        match(session, other, cycle, now, last="O'Neil", first="Siobhan", birth=date(1990, 12, 31), postal="K1A0B1")
    assert raised.value.message == registry.NO_MATCH
    session.rollback()
    # A matched person listed again in a later file is neither a duplicate nor a second line.
    again = do_import(session, staff, cycle, csv_text(), now)
    assert again.accepted == 3 and again.matched_not_in_file == 0
    assert session.scalar(select(func.count()).select_from(VoterRegistryEntry)) == 3
    assert session.scalar(select(func.count()).select_from(VoterRegistryImport)) == 3


def test_accounts_only_cycles_and_closed_votes(session, staff, now):
    codes_only = make_cycle(session, now=now, phase="review", slug="codes", vote_with_accounts=False)
    with pytest.raises(DomainError, match="codes only"):
        registry.import_registry(session, staff, codes_only, csv_text(), "x.csv", now)
    over = make_cycle(session, now=now, phase="results", slug="over")
    with pytest.raises(DomainError, match="over"):
        registry.import_registry(session, staff, over, csv_text(), "x.csv", now)


def test_two_accounts_racing_for_one_line_confirm_one(app, session, staff, cycle, now):
    """Simultaneous checks with the same details, each in its own transaction: one account wins."""
    import threading

    do_import(session, staff, cycle, csv_text(), now)
    users = [create_account(session, f"racer{i}@example.org") for i in range(4)]
    factory = app.extensions["pb.db"].session_factory
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def attempt(user_id):
        with factory() as own:
            from pb.models import Cycle, User

            user, mine = own.get(User, user_id), own.get(Cycle, cycle.id)
            barrier.wait()
            try:
                match(own, user, mine, now)
                own.commit()
                outcomes.append("matched")
            except DomainError as error:
                own.rollback()
                outcomes.append("taken" if error.message == registry.TAKEN else str(error))

    threads = [threading.Thread(target=attempt, args=(user.id,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["matched", "taken", "taken", "taken"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(VoterEligibility)) == 1
