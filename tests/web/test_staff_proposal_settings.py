"""Staff set how residents propose and deliberate: the limit, city-wide proposals, early deliberation."""

from __future__ import annotations

from sqlalchemy import select

from pb.models import AuditLogEntry, Cycle
from tests.web.test_staff_cycles import cycle_form


def test_staff_set_the_proposal_settings_and_the_change_is_audited(client, session, make_user, log_in):
    log_in(make_user("staff@example.org", roles=["staff"]))
    form = cycle_form(
        max_proposals_per_resident="2", allow_citywide_proposals="", deliberation_during_proposals="y"
    )
    assert client.post("/staff/cycles/new", data=form).status_code == 302
    cycle = session.scalar(select(Cycle))
    assert cycle.max_proposals_per_resident == 2
    assert not cycle.allow_citywide_proposals and cycle.deliberation_during_proposals
    edit = client.get(f"/staff/cycles/{cycle.slug}/edit").get_data(as_text=True)
    assert 'name="max_proposals_per_resident" type="number" value="2"' in edit or 'value="2"' in edit
    form.update(version=str(cycle.version), max_proposals_per_resident="7", allow_citywide_proposals="y")
    assert client.post(f"/staff/cycles/{cycle.slug}/edit", data=form).status_code == 302
    session.refresh(cycle)
    assert cycle.max_proposals_per_resident == 7 and cycle.allow_citywide_proposals
    entry = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id.desc())).first()
    assert entry.before["max_proposals_per_resident"] == 2 and entry.after["max_proposals_per_resident"] == 7
    log = client.get("/staff/audit-log").get_data(as_text=True)
    assert "Most proposals each resident may make" in log


def test_the_limit_is_bounded(client, make_user, log_in):
    log_in(make_user("staff@example.org", roles=["staff"]))
    for value in ("0", "101", "10000000000000"):
        page = client.post("/staff/cycles/new", data=cycle_form(max_proposals_per_resident=value)).get_data(
            as_text=True
        )
        assert "error-summary" in page, value


def test_a_district_or_category_in_use_cannot_be_removed(client, session, make_user, log_in, make_cycle):
    from pb.models import Category, District
    from tests.factories import make_proposal

    staff = log_in(make_user("staff@example.org", roles=["staff"]))
    cycle = make_cycle(slug="in-use")
    make_proposal(
        session, make_user("author@example.org"), cycle,
        district_id=cycle.districts[0].id, category_id=cycle.categories[0].id,
    )
    assert staff
    from tests.web.test_staff_cycles import edit_form

    form = edit_form(cycle, **{"districts-0-remove": "y", "categories-0-remove": "y"})
    page = client.post(f"/staff/cycles/{cycle.slug}/edit", data=form).get_data(as_text=True)
    assert "has proposals or ballot projects, so it cannot be removed" in page
    session.expire_all()
    assert session.scalar(select(District).where(District.cycle_id == cycle.id, District.slug == "north"))
    assert session.scalar(select(Category).where(Category.cycle_id == cycle.id))
