"""Every page, in English and in French: no WCAG 2.1 A/AA violation found by axe-core (tags wcag2a,
wcag2aa, wcag21a, wcag21aa), the right ``<html lang>``, a title and exactly one h1, a skip link
that moves the focus to the main content, and no sideways scrolling at 320 pixels wide.

To check a new page, add one line to ``PAGES``: how to reach it (an endpoint, or a function of
the shared ``Site`` that arranges what the page needs), who is signed in, the expected status,
and optionally what to do on the page first (e.g. send a form empty, to check its error state).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from tests.browser.conftest import Site, assert_accessible, axe_violations

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class PageCase:
    name: str
    path: Callable[[Site], str]
    user: str | None = None  # the role of the signed-in account; None: a visitor
    status: int = 200
    then: Callable[[Any], None] | None = None  # brings the page to the state to check
    site_then: Callable[[Site, Any], None] | None = None  # the same, for steps that need the site's data

    def __str__(self) -> str:
        return self.name


def endpoint(name: str, **values: Any) -> Callable[[Site], str]:
    return lambda site: site.url_for(name, **values)


def path(value: str) -> Callable[[Site], str]:
    return lambda site: value


def spoil_csrf_token(page) -> None:
    """Send the page's form with a spoiled CSRF token: the 400 page."""
    page.locator("main form input[name=csrf_token]").evaluate("input => { input.value = 'spoiled'; }")
    with page.expect_response(lambda response: response.request.method == "POST") as sent:
        page.locator("main form button[type=submit]").first.press("Enter")
    assert sent.value.status == 400
    page.wait_for_load_state()


def send_empty(page) -> None:
    """Send the page's main form empty: its error summary and field errors."""
    form = page.locator("main form[method=post]").first
    with page.expect_navigation():
        form.locator("[type=submit]").last.press("Enter")
    assert page.locator(".error-summary").count() == 1, "the empty form shows an error summary"


def cycle_page(endpoint_name: str) -> Callable[[Site], str]:
    return lambda site: site.url_for(endpoint_name, slug=site.cycle().slug)


def proposal_page(site: Site, endpoint_name: str) -> str:
    proposal = site.proposal()
    return site.url_for(endpoint_name, slug=site.cycle().slug, proposal_id=proposal.id)


def discussion(site: Site) -> dict:
    """The proposal with comments, a reply, a hidden comment and open reports; deliberation open."""

    def build(session):
        from pb.db import utcnow
        from pb.services import deliberation, moderation

        proposal, cycle = site.proposal(), site.cycle()
        cycle.deliberation_during_proposals = True
        now = utcnow()
        staff, resident, other = site.account("staff"), site.account("resident"), site.account("delegate")
        first = deliberation.add_comment(session, other, proposal, "Des lumières aideraient beaucoup.", "fr", now)
        reply = deliberation.add_comment(session, resident, proposal, "Thank you!", "en", now, parent=first)
        rude = deliberation.add_comment(session, other, proposal, "Rude words", "en", now)
        moderation.hide_comment(session, staff, rude, "Insults", now)
        deliberation.flag_comment(session, other, reply, "Off topic", now)
        deliberation.flag_proposal(session, other, proposal, "Duplicate", now)
        session.commit()
        return {"slug": cycle.slug, "proposal_id": proposal.id, "comment": first.id, "reply": reply.id}

    return site.once("discussion", build)


def discussion_page(endpoint_name: str, comment: str | None = None) -> Callable[[Site], str]:
    def path(site: Site) -> str:
        ids = discussion(site)
        extra = {"comment_id": ids[comment]} if comment else {}
        return site.url_for(endpoint_name, slug=ids["slug"], proposal_id=ids["proposal_id"], **extra)

    return path


def open_details(page) -> None:
    """Open every disclosure (reply, report and moderation forms), so that axe checks what they hold."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def with_cycle(endpoint_name: str) -> Callable[[Site], str]:
    """A page that lists cycles, with one to list."""
    return lambda site: (site.cycle(), site.url_for(endpoint_name))[1]


def queue_mails(session) -> None:
    """One mail waiting and one failed, for the outbox page."""
    from pb.db import utcnow
    from pb.mail import MailError
    from pb.services.outbox import deliver_due, queue_mail

    class Refusing:
        def send(self, to, subject, body):
            raise MailError("550 5.1.1 No such mailbox", permanent=True)

    queue_mail(session, "gone@example.org", "Choose a new password", "Secret link", utcnow())
    session.commit()
    deliver_due(sessionmaker(bind=session.get_bind()), Refusing(), utcnow())
    queue_mail(session, "later@example.org", "Choose a new password", "Secret link", utcnow())
    session.commit()


def reviewed(site: Site) -> Any:
    """A proposal of the shared cycle, assigned to the budget delegate, who drafted its review and
    suggested merging a duplicate into it; one ballot project, and one the delegate drafted."""

    def build(session):
        from pb.db import utcnow
        from pb.services import projects, review
        from tests.factories import make_proposal

        now = utcnow()
        cycle, staff, delegate = site.cycle(), site.account("staff"), site.account("delegate")
        proposal = make_proposal(session, site.account("resident"), cycle, now=now, title="Lights on the river path")
        duplicate = make_proposal(session, site.account("resident"), cycle, now=now, title="Path lights")
        for each in (proposal, duplicate):
            review.assign_reviewer(session, staff, each, delegate, now)
        review.draft_review(
            session,
            delegate,
            proposal,
            review.ReviewInput(feasibility="feasible", cost_estimate_cents=12_500_00, internal_notes="Ask parks."),
            now,
        )
        review.suggest_merge(session, delegate, duplicate, proposal.id, "The same path.", now)
        # Decided: confirmed feasible, with a duplicate merged into it (its public page shows both).
        decided = make_proposal(session, site.account("resident"), cycle, now=now, title="Crosswalk lights")
        copy = make_proposal(session, site.account("staff"), cycle, now=now, title="Lights at the crossing")
        review.assign_reviewer(session, staff, decided, delegate, now)
        review.draft_review(
            session,
            delegate,
            decided,
            review.ReviewInput(
                feasibility="feasible",
                cost_estimate_cents=8_000_00,
                civil_liberties="Lights only, no cameras.",
                public_summary="Feasible: the city maintains the crossing.",
            ),
            now,
        )
        review.confirm_review(session, staff, decided, now)
        review.merge_proposal(session, staff, copy, decided.id, "The same crossing.", now)
        projects.create_project(
            session,
            staff,
            cycle,
            projects.ProjectInput("Youth nights", "Soirées jeunesse", "Drop-in nights.", "Soirées libres.", 5_000_00),
            now,
        )
        projects.create_project(
            session,
            delegate,
            cycle,
            projects.ProjectInput("Safe walks", "Marches sûres", "Evening walks.", "Marches en soirée.", 3_000_00),
            now,
        )
        session.commit()
        return proposal

    return site.once("reviewed", build)


def decided_public_page(site: Site) -> str:
    proposal = reviewed(site)
    return site.url_for("proposals.show_proposal", slug=proposal.cycle.slug, proposal_id=proposal.id + 2)


def review_page(site: Site) -> str:
    proposal = reviewed(site)
    return site.url_for("review.review_proposal", slug=proposal.cycle.slug, proposal_id=proposal.id)


def registry_page(endpoint_name: str) -> Callable[[Site], str]:
    """A page of the shared cycle once staff imported its voter registry (one row rejected, for the report)."""

    def path(site: Site) -> str:
        def build(session):
            from pb.db import utcnow
            from pb.services import registry

            data = (
                "last_name,first_names,birth_date,postal_code,district\r\n"
                "Côté-Léger,Marie-Ève,1980-05-17,H2X 1Y4,north\r\n"
                "Tremblay,Jean,17/05/1980,H2X 1Y4,north\r\n"
            ).encode()
            registry.import_registry(session, site.account("staff"), site.cycle(), data, "registry.csv", utcnow())
            session.commit()
            return site.cycle().slug

        return site.url_for(endpoint_name, slug=site.once("registry", build))

    return path


def duplicate_page(site: Site) -> str:
    proposal = reviewed(site)
    return site.url_for("review.review_proposal", slug=proposal.cycle.slug, proposal_id=proposal.id + 1)


def projects_page(endpoint_name: str) -> Callable[[Site], str]:
    return lambda site: (reviewed(site), site.url_for(endpoint_name, slug=site.cycle().slug))[1]


def not_feasible_without_reason(page) -> None:
    """Send the review form as not feasible with no public reason: its error state."""
    page.locator("select[name=feasibility]").select_option("not_feasible")
    page.locator("textarea[name=public_reason]").fill("")
    with page.expect_navigation():
        page.locator("form:has(textarea[name=public_reason]) [type=submit]").press("Enter")
    assert page.locator(".error-summary").count() == 1


# --- Voting: cycles in voting (the site's clock is the real one), one per ballot type ---------------


def voting_cycle(site: Site, kind: str) -> Any:
    """A cycle in voting with a ``kind`` ballot; the site's resident is a confirmed voter of North."""

    def build(session):
        from datetime import timedelta

        from pb.db import utcnow
        from pb.models import EligibilityBasis
        from pb.services import eligibility
        from tests.factories import make_voting_cycle

        limits = {"ranked": {"ranking_length": 3}, "approval": {"max_projects": 2}}.get(kind, {"min_projects": 1})
        # Made six days ago, in review: voting opened yesterday and runs nine more days.
        cycle, projects, during = make_voting_cycle(
            session, site.account("staff"), now=utcnow() - timedelta(days=6), slug=f"vote-{kind}",
            ballot_type=kind, **limits,
        )
        eligibility.confirm_voter(
            session, site.account("staff"), cycle, site.account("resident"), basis=EligibilityBasis.IN_PERSON,
            district_id=cycle.districts[0].id, note="Lease", birth_date=None, citizen=True, now=utcnow(),
        )
        session.commit()
        return cycle

    return site.once(f"vote-{kind}", build)


def voted(site: Site) -> Any:
    """The approval cycle, in which the resident has voted already (revision is allowed)."""

    def build(session):
        from pb.db import utcnow
        from pb.services import eligibility, voting
        from pb.services.ballot_rules import RawChoices

        cycle = voting_cycle(site, "approval")
        voter = eligibility.account_voter(session, cycle, site.account("resident"))
        project = voting.ballot_projects(session, cycle, voter.district_id)[0]
        voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(project.id),)), voting.new_nonce(), utcnow())
        session.commit()
        return cycle

    return site.once("voted", build)


def closed_vote(site: Site) -> dict:
    """A knapsack cycle whose voting ended yesterday, with one ballot cast while it ran."""

    def build(session):
        from datetime import timedelta

        from pb.db import utcnow
        from pb.services import eligibility, voting
        from pb.services.ballot_rules import RawChoices
        from tests.factories import make_voting_cycle

        cycle, projects, during = make_voting_cycle(
            session, site.account("staff"), now=utcnow() - timedelta(days=16), slug="vote-closed",
            ballot_type="knapsack",
        )
        code = eligibility.create_code_batch(session, site.account("staff"), cycle, 1, None, "", during).codes[0]
        voter = eligibility.code_voter(session, cycle, code)
        cast = voting.cast_ballot(
            session, cycle, voter, RawChoices(selected=(str(projects[2].id),)), voting.new_nonce(), during
        )
        session.commit()
        return {"slug": cycle.slug, "receipt": voting.format_receipt(cast.receipt)}

    return site.once("closed-vote", build)


def counted(site: Site) -> dict:
    """Two closed cycles: ``results-mes`` (Equal Shares with a greedy completion) published, then corrected;
    ``results-draft`` (greedy) with a draft result waiting for staff."""

    def build(session):
        from datetime import timedelta

        from pb.db import utcnow
        from pb.services import results
        from tests.factories import cast_votes, make_voting_cycle

        staff, now = site.account("staff"), utcnow()
        slugs = {}
        for slug, rule in (("results-mes", "mes"), ("results-draft", "greedy")):
            extra = {"tally_completion": "greedy"} if rule == "mes" else {}
            cycle, projects, during = make_voting_cycle(
                session, staff, now=now - timedelta(days=16), slug=slug, ballot_type="approval", tally_rule=rule, **extra
            )
            a, b, c, d = projects
            cast_votes(session, staff, cycle, [(a, c), (c,), (a, d)], during, prefix=f"{slug}-north")
            cast_votes(session, staff, cycle, [(b,)], during, district=1, prefix=f"{slug}-south")
            draft = results.draft_result(session, staff, cycle, now)
            if rule == "mes":
                first = results.publish_result(session, staff, draft, now)
                correction = results.draft_result(session, staff, cycle, now, corrects=first, reason="Un coût était faux.")
                results.publish_result(session, staff, correction, now)
                slugs["first"] = str(first.id)
            slugs[rule] = slug
        session.commit()
        return slugs

    return site.once("counted", build)


def results_page(endpoint_name: str, which: str, earlier: bool = False) -> Callable[[Site], str]:
    def target(site: Site) -> str:
        ids = counted(site)
        extra = {"result_id": ids["first"]} if earlier else {}
        return site.url_for(endpoint_name, slug=ids[which], **extra)

    return target


def vote_page(endpoint_name: str, kind: str = "knapsack", **values: Any) -> Callable[[Site], str]:
    return lambda site: site.url_for(endpoint_name, slug=voting_cycle(site, kind).slug, **values)


def not_yet_open(site: Site) -> str:
    def build(session):
        from tests.factories import make_cycle

        return make_cycle(session, site.account("staff"), phase="review", slug="vote-later").slug

    return site.url_for("voting.start_vote", slug=site.once("vote-later", build))


def closed_page(endpoint_name: str, **values: Any) -> Callable[[Site], str]:
    return lambda site: site.url_for(endpoint_name, slug=closed_vote(site)["slug"], **values)


def counted_receipt(site: Site) -> str:
    ids = closed_vote(site)
    return site.url_for("voting.check_receipt", slug=ids["slug"], receipt=ids["receipt"])


def wrong_code(page) -> None:
    """Send the code form with a code that opens nothing: its error state."""
    page.locator("input[name=code]").fill("ABCD-EFGH-JKMN-PQRS")
    with page.expect_navigation():
        page.locator("input[name=code]").press("Enter")
    assert page.locator(".error-summary").count() == 1


def new_code(site: Site) -> str:
    """A fresh code of the knapsack cycle's North voters (each use casts with it)."""
    from pb.db import utcnow
    from pb.services import eligibility

    cycle = voting_cycle(site, "knapsack")
    batch = eligibility.create_code_batch(
        site.session, site.account("staff"), cycle, 1, cycle.districts[0].id, "", utcnow()
    )
    site.session.commit()
    return batch.codes[0]


def tick_first(page) -> None:
    """Choose the first project of the ballot (a box, or the first rank)."""
    rank = page.locator("select.ballot-rank")
    if rank.count():
        rank.first.select_option("1")
    else:
        page.locator("input[name=project]").first.check()


def reviewed_ballot(page) -> None:
    """The first project chosen, then Review my ballot: the review page."""
    tick_first(page)
    with page.expect_navigation():
        page.locator("button[value=review]").click()
    assert page.locator("button[value=cast]").count() == 1, page.locator("main").inner_text()


def over_budget(page) -> None:
    """Every project chosen (more than the budget), then Review: the ballot's error state."""
    for box in page.locator("input[name=project]").all():
        box.check()
    with page.expect_navigation():
        page.locator("button[value=review]").click()
    assert page.locator(".error-summary").count() == 1


def cast_with_a_code(site: Site, page) -> None:
    """Enter a fresh code, choose, review and cast: the confirmation with its receipt."""
    page.locator("input[name=code]").fill(new_code(site))
    with page.expect_navigation():
        page.locator("input[name=code]").press("Enter")
    reviewed_ballot(page)
    with page.expect_navigation():
        page.locator("button[value=cast]").click()
    assert page.locator(".receipt code").count() == 1


def open_projects(page) -> None:
    """Open every project's description, so that axe checks what they hold."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def staff_voting_cycle(site: Site) -> Any:
    """A cycle one day into voting (at the server's real clock), with a batch of codes, a confirmed
    voter and a ballot cast with a code: what the staff voting pages show."""

    def build(session):
        from datetime import timedelta

        from pb.db import utcnow
        from pb.models import EligibilityBasis
        from pb.services import eligibility, voting
        from pb.services.ballot_rules import RawChoices
        from tests.factories import create_account, make_voting_cycle

        staff = site.account("staff")
        cycle, projects, during = make_voting_cycle(
            session, staff, now=utcnow() - timedelta(days=6), slug="vote-lakeview", ballot_type="approval"
        )
        made = eligibility.create_code_batch(session, staff, cycle, 3, cycle.districts[0].id, "Library", during)
        voter = eligibility.code_voter(session, cycle, made.codes[0])
        voting.cast_ballot(session, cycle, voter, RawChoices(selected=(str(projects[2].id),)), voting.new_nonce(), during)
        account = create_account(session, "voter@example.org", display_name="Vera Voter")
        confirmed = eligibility.confirm_voter(
            session, staff, cycle, account, basis=EligibilityBasis.PARTNER, district_id=cycle.districts[1].id,
            note="Vouched for by the Eastside Centre", birth_date=None, citizen=True, now=during,
        )
        session.commit()
        return {"cycle": cycle, "batch": made.batch.id, "voter": confirmed.id}

    return site.once("voting", build)


def voters_page(endpoint_name: str, *, batch: bool = False, voter: bool = False) -> Callable[[Site], str]:
    def path(site: Site) -> str:
        rows = staff_voting_cycle(site)
        values = {"batch_id": rows["batch"]} if batch else {"eligibility_id": rows["voter"]} if voter else {}
        return site.url_for(endpoint_name, slug="vote-lakeview", **values)

    return path


def found_account(site: Site) -> str:
    staff_voting_cycle(site)
    return site.url_for("voters.list_voters", slug="vote-lakeview", email=site.account("resident").email)


def ask_to_void(page) -> None:
    """Name a voter and a reason: the confirmation step."""
    page.locator("input[name=email]").fill("voter@example.org")
    page.locator("textarea[name=reason]").fill("Account taken over")
    with page.expect_navigation():
        page.locator("main form[method=post] [type=submit]").last.press("Enter")
    assert page.locator("main form[method=post] button, main form[method=post] input[type=submit]").count() == 1


PAGES = [
    # Public pages
    PageCase("home", with_cycle("cycles.list_cycles")),
    PageCase("cycle", cycle_page("cycles.show_cycle")),
    PageCase("archive", endpoint("cycles.list_past_cycles")),
    # Proposals
    PageCase("proposals", cycle_page("proposals.list_proposals")),
    PageCase("proposals-search", lambda site: site.url_for("proposals.list_proposals", slug=site.cycle().slug, q="lumière")),
    PageCase("proposals-mine", cycle_page("proposals.my_proposals"), user="resident"),
    PageCase("proposal", lambda site: proposal_page(site, "proposals.show_proposal")),
    PageCase("proposal-author", lambda site: proposal_page(site, "proposals.show_proposal"), user="resident"),
    PageCase("proposal-new", cycle_page("proposals.new_proposal"), user="resident"),
    PageCase("proposal-new-errors", cycle_page("proposals.new_proposal"), user="resident", then=send_empty),
    PageCase("proposal-edit", lambda site: proposal_page(site, "proposals.edit_proposal"), user="resident"),
    PageCase("proposal-withdraw", lambda site: proposal_page(site, "proposals.withdraw_proposal"), user="resident"),
    PageCase("proposal-translate", lambda site: proposal_page(site, "proposals.translate_proposal"), user="staff"),
    # Deliberation and moderation
    PageCase("discussion", discussion_page("proposals.show_proposal")),
    PageCase("discussion-resident", discussion_page("proposals.show_proposal"), user="resident", then=open_details),
    PageCase("discussion-staff", discussion_page("proposals.show_proposal"), user="staff", then=open_details),
    PageCase("comment-new-errors", discussion_page("proposals.add_comment"), user="resident", then=send_empty),
    PageCase("comment-reply", discussion_page("proposals.reply_to_comment", "comment"), user="resident"),
    PageCase("comment-edit", discussion_page("proposals.edit_comment", "reply"), user="resident"),
    PageCase("comment-report", discussion_page("proposals.flag_comment", "comment"), user="resident"),
    PageCase("proposal-report-errors", discussion_page("proposals.flag_proposal"), user="auditor", then=send_empty),
    PageCase("comment-hide", discussion_page("proposals.hide_comment", "comment"), user="staff"),
    PageCase("moderation-queue", lambda site: (discussion(site), site.url_for("proposals.moderation_queue"))[1],
             user="staff"),
    # Accounts
    PageCase("sign-in", endpoint("auth.sign_in")),
    PageCase("sign-in-errors", endpoint("auth.sign_in"), then=send_empty),
    PageCase("register", endpoint("auth.register")),
    PageCase("register-errors", endpoint("auth.register"), then=send_empty),
    PageCase("forgot-password", endpoint("auth.request_password_reset")),
    PageCase("reset-password", lambda site: site.url_for("auth.reset_password", token=site.reset_token())),
    PageCase("reset-link-invalid", endpoint("auth.reset_password", token="not-a-token"), status=400),
    PageCase("account", endpoint("auth.account"), user="resident"),
    PageCase("account-unconfirmed", endpoint("auth.account"), user="unconfirmed"),
    PageCase("check-inbox", endpoint("auth.check_inbox")),
    PageCase(
        "email-confirmed", lambda site: site.url_for("auth.confirm_email", token=site.confirmation_token())
    ),
    PageCase("confirm-link-invalid", endpoint("auth.confirm_email", token="not-a-token"), status=400),
    PageCase(
        "confirm-link-invalid-signed-in",
        endpoint("auth.confirm_email", token="not-a-token"),
        user="unconfirmed",
        status=400,
    ),
    PageCase("request-confirmation", endpoint("auth.request_confirmation")),
    PageCase("request-confirmation-errors", endpoint("auth.request_confirmation"), then=send_empty),
    # Staff
    PageCase("staff-dashboard", with_cycle("staff.dashboard"), user="staff"),
    PageCase("staff-cycle-create", endpoint("staff.create_cycle"), user="staff"),
    PageCase("staff-cycle-create-errors", endpoint("staff.create_cycle"), user="staff", then=send_empty),
    PageCase("staff-cycle-edit", cycle_page("staff.edit_cycle"), user="staff"),
    PageCase("staff-close-phase", cycle_page("staff.close_phase"), user="staff"),
    PageCase("audit-log", with_cycle("staff.audit_log"), user="auditor"),
    PageCase("registry-staff", registry_page("registry.manage_registry"), user="staff"),
    PageCase("registry-staff-errors", registry_page("registry.manage_registry"), user="staff", then=send_empty),
    PageCase("registry-check", registry_page("registry.check_registry"), user="resident"),
    PageCase("registry-check-errors", registry_page("registry.check_registry"), user="resident", then=send_empty),
    PageCase("transparency", endpoint("site.transparency")),
    PageCase("open-data", endpoint("opendata.list_open_data")),
    # Administration
    PageCase("admin-accounts", endpoint("admin.list_accounts"), user="admin"),
    PageCase(
        "admin-account",
        lambda site: site.url_for("admin.show_account", user_id=site.account("staff").id),
        user="admin",
    ),
    PageCase(
        "admin-outbox",
        lambda site: (site.once("outbox", queue_mails), site.url_for("admin.list_outbox"))[1],
        user="admin",
    ),
    # Review by staff and budget delegates, ballot projects
    PageCase("review-cycles", with_cycle("review.list_review_cycles"), user="delegate"),
    PageCase("review-queue", projects_page("review.list_queue"), user="delegate"),
    PageCase("review-proposal-delegate", review_page, user="delegate"),
    PageCase("review-proposal-staff", review_page, user="staff"),
    PageCase("review-proposal-errors", review_page, user="staff", then=not_feasible_without_reason),
    PageCase("review-merge-suggested", duplicate_page, user="staff"),
    PageCase("proposal-with-confirmed-review", decided_public_page),
    PageCase("ballot-projects", projects_page("review.list_projects"), user="staff"),
    PageCase("ballot-projects-delegate", projects_page("review.list_projects"), user="delegate"),
    PageCase("ballot-project-draft", projects_page("review.create_project"), user="delegate"),
    PageCase("ballot-project-create", projects_page("review.create_project"), user="staff"),
    PageCase("ballot-project-create-errors", projects_page("review.create_project"), user="staff", then=send_empty),
    # Voting: the start page in each state, the code's error, each ballot type, review, cast, receipts
    PageCase("vote-start", vote_page("voting.start_vote")),
    PageCase("vote-start-empty-code", vote_page("voting.start_vote"), then=send_empty),
    PageCase("vote-start-wrong-code", vote_page("voting.start_vote"), then=wrong_code),
    PageCase("vote-start-signed-in-not-voter", vote_page("voting.start_vote"), user="auditor"),
    PageCase("vote-start-voter", vote_page("voting.start_vote"), user="resident"),
    PageCase("vote-start-voted", lambda site: site.url_for("voting.start_vote", slug=voted(site).slug),
             user="resident"),
    PageCase("vote-start-not-open", not_yet_open),
    PageCase("vote-start-over", closed_page("voting.start_vote")),
    PageCase("vote-cycle-page", vote_page("cycles.show_cycle")),
    PageCase("vote-ballot-knapsack", vote_page("voting.show_ballot"), user="resident", then=open_projects),
    PageCase("vote-ballot-knapsack-errors", vote_page("voting.show_ballot"), user="resident", then=over_budget),
    PageCase("vote-ballot-ranked", vote_page("voting.show_ballot", "ranked"), user="resident", then=open_projects),
    PageCase("vote-ballot-approval-voted", lambda site: site.url_for("voting.show_ballot", slug=voted(site).slug),
             user="resident"),
    PageCase("vote-ballot-filtered", vote_page("voting.show_ballot", show_district="999999"), user="resident"),
    PageCase("vote-review-knapsack", vote_page("voting.show_ballot"), user="resident", then=reviewed_ballot),
    PageCase("vote-review-ranked", vote_page("voting.show_ballot", "ranked"), user="resident", then=reviewed_ballot),
    PageCase("vote-ballot-cast", vote_page("voting.start_vote"), site_then=cast_with_a_code),
    PageCase("vote-receipt-before-close", vote_page("voting.check_receipt")),
    PageCase("vote-receipt-after-close", closed_page("voting.check_receipt")),
    PageCase("vote-receipt-counted", counted_receipt),
    PageCase("vote-receipt-malformed", closed_page("voting.check_receipt", receipt="not a receipt")),
    PageCase("vote-receipt-unknown", closed_page("voting.check_receipt", receipt="0000-0000-0000-0000")),
    # Results: nothing published yet, published (Equal Shares, corrected), an earlier result, staff pages
    PageCase("results-not-published", closed_page("results.show_results")),
    PageCase("results-published", results_page("results.show_results", "mes")),
    PageCase("results-earlier", results_page("results.show_earlier_result", "mes", earlier=True)),
    PageCase("results-staff-count", closed_page("results.manage_results"), user="staff"),
    PageCase("results-staff-draft", results_page("results.manage_results", "greedy"), user="staff"),
    PageCase("results-staff-published", results_page("results.manage_results", "mes"), user="staff"),
    PageCase("results-publish", results_page("results.publish_result", "greedy"), user="staff"),
    PageCase("results-correct", results_page("results.correct_result", "mes"), user="staff"),
    PageCase("results-correct-errors", results_page("results.correct_result", "mes"), user="staff", then=send_empty),
    # The staff pages of a vote
    PageCase("voters-dashboard", voters_page("voters.show_dashboard"), user="staff"),
    PageCase("voters-codes", voters_page("voters.list_batches"), user="staff"),
    PageCase("voters-codes-errors", voters_page("voters.list_batches"), user="staff", then=send_empty),
    PageCase("voters-void-batch", voters_page("voters.void_batch", batch=True), user="staff"),
    PageCase("voters-list", voters_page("voters.list_voters"), user="staff"),
    PageCase("voters-account-found", found_account, user="staff"),
    PageCase("voters-confirm-errors", found_account, user="staff", then=send_empty),
    PageCase("voters-revoke", voters_page("voters.revoke_voter", voter=True), user="staff"),
    PageCase("voters-void-ballot", voters_page("voters.void_ballot"), user="staff"),
    PageCase("voters-void-ballot-errors", voters_page("voters.void_ballot"), user="staff", then=send_empty),
    PageCase("voters-void-ballot-confirm", voters_page("voters.void_ballot"), user="staff", then=ask_to_void),
    PageCase("voters-close", voters_page("voters.close_voting"), user="staff"),
    PageCase("voters-close-errors", voters_page("voters.close_voting"), user="staff", then=send_empty),
    # Error pages
    PageCase("error-400", endpoint("auth.sign_in"), then=spoil_csrf_token),
    PageCase("error-403", endpoint("staff.dashboard"), user="resident", status=403),
    PageCase("error-404", path("/no-such-page"), status=404),
    PageCase("error-405", endpoint("site.switch_language"), status=405),
    PageCase("error-500", path("/_test/failure"), status=500),
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("case", PAGES, ids=str)
def test_page_is_accessible(case: PageCase, language: str, site: Site) -> None:
    target = case.path(site)
    context = site.new_context(language, case.user)
    try:
        page = context.new_page()
        response = page.goto(target)
        assert response is not None and response.status == case.status
        if case.then is not None:
            case.then(page)
        if case.site_then is not None:
            case.site_then(site, page)
        assert_accessible(page, language)
    finally:
        context.close()


def test_the_checks_catch_a_broken_page(browser) -> None:
    """axe really runs: a page with known faults is not passed (no server needed)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            "<html><head><title>Broken</title></head><body><main id='main'><h1>One</h1>"
            "<input type='text' name='unlabelled'><p style='color:#bbb;background:#fff'>Faint text</p>"
            "</main></body></html>"
        )
        found = {violation["id"] for violation in axe_violations(page)}
        assert {"html-has-lang", "label", "color-contrast"} <= found
        with pytest.raises(AssertionError):
            assert_accessible(page, "en")
    finally:
        context.close()
