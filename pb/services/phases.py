"""What residents and staff may do in each phase of a cycle: the one place these rules live.

Services call the ``require_*`` functions (they raise :class:`DomainError` with a message that
says what is true now); pages call the ``*_open`` ones to decide what to offer. Both read the same
clock (``now``), so a form shown a second before a phase ends is refused, clearly, a second after.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from pb.models import Cycle, Phase
from pb.services.errors import DomainError


def submission_open(cycle: Cycle, now: datetime) -> bool:
    """Residents may submit, edit and withdraw proposals."""
    return cycle.phase_state(now).current is Phase.PROPOSALS


def deliberation_open(cycle: Cycle, now: datetime) -> bool:
    """Residents may comment, reply and support: the review phase, and submission when the cycle says so."""
    phase = cycle.phase_state(now).current
    return phase is Phase.REVIEW or (phase is Phase.PROPOSALS and cycle.deliberation_during_proposals)


def review_open(cycle: Cycle, now: datetime) -> bool:
    """Reviewers may assess proposals and draft ballot projects: from submission until voting opens."""
    return cycle.proposals_start_at <= now and not cycle.voting_has_opened(now)


def require_submission_open(cycle: Cycle, now: datetime) -> None:
    if submission_open(cycle, now):
        return
    if now < cycle.proposals_start_at:
        raise DomainError(_l("Proposals are not open yet for this cycle."))
    raise DomainError(_l("The time for proposals is over for this cycle."))


def require_deliberation_open(cycle: Cycle, now: datetime) -> None:
    if deliberation_open(cycle, now):
        return
    phase = cycle.phase_state(now).current
    if phase is Phase.PROPOSALS or now < cycle.proposals_start_at:
        raise DomainError(_l("Comments and supports open when the review phase starts."))
    raise DomainError(_l("Comments and supports are closed: the review phase is over."))


def require_review_open(cycle: Cycle, now: datetime) -> None:
    if review_open(cycle, now):
        return
    if now < cycle.proposals_start_at:
        raise DomainError(_l("Proposals are not open yet for this cycle."))
    raise DomainError(_l("Voting has opened: proposals and ballot projects can no longer change."))


def ballot_projects_open(cycle: Cycle, now: datetime) -> bool:
    """Staff may create, change and remove ballot projects: until voting opens, then the list is frozen."""
    return not cycle.voting_has_opened(now)


def require_ballot_projects_open(cycle: Cycle, now: datetime) -> None:
    if not ballot_projects_open(cycle, now):
        raise DomainError(
            _l("Voting has opened, so the list of ballot projects is frozen: nothing was changed.")
        )
