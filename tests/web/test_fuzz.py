"""Random input to every route: never a server error, and a refused request changes nothing.

The routes come from the application's URL map and the fields from the forms each page
actually shows, so a route or a field added later is fuzzed without touching this file.
Every value is sent as raw bytes, so NUL, lone surrogates (as invalid UTF-8), 100,000-character
strings, huge numbers and impossible dates all reach the application as a browser or an
attacker could send them. Runs on SQLite and PostgreSQL (the ``database_url`` fixture); the
hypothesis profile (``dev`` or ``ci``) sets how many requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from pb.db import Base
from pb.models import Role

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

ODD_VALUES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202eevil",
    "\x1b[31m",
    "1" + "0" * 20,
    "-" + "9" * 25,
    "1e10000",
    "NaN",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-02-30T10:00",
    "2026-13-01T25:61",
    "1969-12-31T23:59",
    "x" * 100_000,
    "é" * 5000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "approval",
    "mes",
    "add1",
    "district",
    "fr_CA",
    "staff",
    "admin",
    "on",
]

values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=50),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(codec=None, categories=["Cc", "Cs", "Cf"]), min_size=1, max_size=5),
)


def encode(value: str) -> str:
    """Percent-encode as UTF-8, lone surrogates included (they arrive as invalid bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@dataclass
class Target:
    method: str
    path: str  # with ``<name>`` placeholders for the route's arguments
    fields: dict[str, str] = field(default_factory=dict)
    arguments: tuple[str, ...] = ()

    def url(self, arguments: dict[str, str]) -> str:
        path = self.path
        for name in self.arguments:
            path = path.replace(f"<{name}>", encode(arguments[name]))
        return path


# The values that broke servers before: one request each, on every route and every field.
NASTY = ["\x00", "x\udfffy", "\x1b", "1" + "0" * 20, "9999-12-31T23:59", "x" * 100_000, "-1", "\u202e"]


class _FormReader(HTMLParser):
    """The forms of a page: where they go, how, and the values a browser would send back."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[Target] = []
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = a.get("action") or self.page_path
            self.forms.append(Target((a.get("method") or "get").upper(), urlsplit(action).path or "/"))
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "select", "button") and a.get("name"):
            form = self.forms[-1]
            if tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" not in a:
                form.fields.setdefault(a["name"], "")
            else:
                form.fields[a["name"]] = a.get("value") or form.fields.get(a["name"], "")
            if tag == "select":
                self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.forms[-1].fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def _fingerprint(engine) -> str:
    """A hash of every row of every table (the schema is small in tests)."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = [column for column in table.primary_key.columns]
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
        connection.execute(text("SELECT 1"))
    return digest.hexdigest()


@pytest.fixture
def targets(app, client, session, make_cycle):
    """Every route with its arguments filled from real rows, and every form the pages show."""
    from pb.db import utcnow
    from pb.services.deliberation import add_comment
    from tests.factories import create_account, make_proposal

    admin = create_account(session, "admin@example.org", roles=[Role.ADMIN, Role.STAFF, Role.AUDITOR])
    create_account(session, "someone@example.org")
    cycle = make_cycle(slug="open-cycle", phase="proposals")
    make_cycle(slug="voting-cycle", phase="voting")
    proposal = make_proposal(session, admin, cycle, photo_name="0" * 64 + ".jpg", photo_alt="A photo")
    project = _review_rows(session, cycle, admin, proposal)
    cycle.deliberation_during_proposals = True  # the comment forms show, and their routes have a comment
    comment = add_comment(session, admin, proposal, "A comment", "en", utcnow())
    batch, eligibility_row = _voter_rows(session, cycle, admin)
    session.commit()
    arguments = {
        "slug": "open-cycle",
        "user_id": str(admin.id),
        "token": "not-a-token",
        "proposal_id": str(proposal.id),
        "project_id": str(project.id),
        "name": proposal.photo_name,
        "comment_id": str(comment.id),
        "result_id": "1",
        "batch_id": str(batch.id),
        "eligibility_id": str(eligibility_row.id),
    }

    found: list[Target] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", f"<{name}>")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Target(method, path, arguments=tuple(sorted(rule.arguments))))
    assert len(found) >= 15, "the URL map should list every page"

    _sign_in(client, admin)
    for target in list(found):
        if target.method != "GET":
            continue
        page = target.url(arguments)
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        reader = _FormReader(page)
        reader.feed(response.text)
        found.extend(form for form in reader.forms if form.fields)
    return admin, found, arguments


def _review_rows(session, cycle, admin, proposal):
    """The proposal under review, assigned to a budget delegate, and a ballot project: the review pages' rows."""
    from pb.db import utcnow
    from pb.services import projects, review
    from tests.factories import create_account

    now = utcnow()
    delegate = create_account(session, "delegate@example.org", roles=[Role.DELEGATE])
    review.assign_reviewer(session, admin, proposal, delegate, now)
    review.draft_review(session, delegate, proposal, review.ReviewInput(internal_notes="Notes."), now)
    project = projects.create_project(
        session, admin, cycle, projects.ProjectInput("Lights", "Lampes", "On the path.", "Sur le sentier.", 100_00), now
    )
    session.commit()
    return project


def _voter_rows(session, cycle, admin):
    """A batch of voter codes and a confirmed voter: the staff voting pages' rows."""
    from pb.db import utcnow
    from pb.models import EligibilityBasis
    from pb.services import eligibility
    from tests.factories import create_account

    now = utcnow()
    batch = eligibility.create_code_batch(session, admin, cycle, 2, cycle.districts[0].id, "Library", now).batch
    voter = create_account(session, "voter@example.org")
    row = eligibility.confirm_voter(
        session, admin, cycle, voter, basis=EligibilityBasis.IN_PERSON, district_id=None, note="Lease",
        birth_date=None, citizen=True, now=now,
    )
    session.commit()
    return batch, row


def _sign_in(client, user) -> None:
    from pb.security import SESSION_SEEN, SESSION_STARTED

    now = int(client.application.extensions["pb.clock"]().timestamp())
    with client.session_transaction() as flask_session:
        flask_session.clear()
        flask_session["_user_id"] = user.get_id()
        flask_session["_fresh"] = True
        flask_session[SESSION_STARTED] = flask_session[SESSION_SEEN] = now


def _refused(response) -> bool:
    return response.status_code >= 400 or 'class="error-summary"' in response.get_data(as_text=True)


def _send(app, client, target: Target, fields: dict[str, str], arguments: dict[str, str]):
    """One request; no 5xx, and when refused, not one row changed."""
    body = "&".join(f"{encode(name)}={encode(value)}" for name, value in fields.items())
    engine = app.extensions["pb.db"].engine
    before = _fingerprint(engine)
    if target.method == "GET":
        response = client.get(f"{target.url(arguments)}?{body}")
    else:
        response = client.open(
            target.url(arguments),
            method=target.method,
            data=body.encode("ascii"),
            content_type="application/x-www-form-urlencoded",
        )
    shown = {name: value[:80] for name, value in fields.items()}
    assert response.status_code < 500, (target.method, target.url(arguments), shown)
    if _refused(response):
        assert _fingerprint(engine) == before, (target.method, target.url(arguments), shown)
    return response


def _reset(app, client, admin, signed_in: bool | str) -> None:
    """Signed in as the admin (True), as the account with this e-mail address, or not at all (False)."""
    from pb.extensions import limiter
    from pb.models import User

    with app.app_context():
        limiter.reset()
    if isinstance(signed_in, str):
        session = app.extensions["pb.db"].session_factory()
        with session:
            _sign_in(client, session.scalar(select(User).where(User.email == signed_in)))
    elif signed_in:
        _sign_in(client, admin)
    else:
        with client.session_transaction() as flask_session:
            flask_session.clear()


def test_every_odd_value_in_every_field_argument_and_parameter(app, client, targets):
    """A deterministic sweep: each nasty value in all fields at once, then in each field alone."""
    admin, found, arguments = targets
    for target in found:
        names = list(target.fields) + ["page", "q", "next"] if target.method == "GET" else list(target.fields)
        for value in NASTY:
            _reset(app, client, admin, signed_in=True)
            _send(app, client, target, dict.fromkeys(names, value), arguments)
            for name in target.arguments:
                _reset(app, client, admin, signed_in=True)
                _send(app, client, target, dict(target.fields), {**arguments, name: value})
        for index, name in enumerate(target.fields):
            _reset(app, client, admin, signed_in=True)
            _send(app, client, target, {**target.fields, name: NASTY[index % len(NASTY)]}, arguments)
        if target.path.startswith("/review"):  # the pages budget delegates use, as a delegate
            for value in NASTY:
                _reset(app, client, admin, signed_in="delegate@example.org")
                _send(app, client, target, dict.fromkeys(target.fields, value), arguments)


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_input_never_makes_a_server_error_or_changes_anything_when_refused(
    app, client, targets, data
):
    admin, found, arguments = targets
    target = data.draw(st.sampled_from(found), label="target")
    # Every role that sees other pages: admin (also staff and auditor), budget delegate, resident, visitor.
    who = data.draw(st.sampled_from([True, "delegate@example.org", "someone@example.org", False]), label="signed in")
    _reset(app, client, admin, signed_in=who)

    fields = dict(target.fields)
    extra_names = ["page", "q", "next", data.draw(st.text(min_size=1, max_size=8), label="extra name")]
    names = list(fields) or extra_names
    for name in data.draw(st.lists(st.sampled_from(names + extra_names), max_size=4), label="fuzzed"):
        fields[name] = data.draw(values, label=name)
    route_arguments = dict(arguments)
    for name in target.arguments:
        if data.draw(st.booleans(), label=f"fuzz {name}"):
            route_arguments[name] = data.draw(values, label=name)
    _send(app, client, target, fields, route_arguments)
