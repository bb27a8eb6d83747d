"""Words for proposals that pages of several blueprints show: statuses, sorts, history steps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pb.models import ProposalStatus

STATUS_NAMES = {
    ProposalStatus.DRAFT: _l("Draft"),
    ProposalStatus.SUBMITTED: _l("Submitted"),
    ProposalStatus.UNDER_REVIEW: _l("Under review"),
    ProposalStatus.FEASIBLE: _l("Feasible"),
    ProposalStatus.NOT_FEASIBLE: _l("Not feasible"),
    ProposalStatus.MERGED: _l("Merged"),
    ProposalStatus.ON_BALLOT: _l("On the ballot"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
}
HIDDEN = _l("Hidden by moderators")

# What each status means, in plain words, for the proposal page and the list's filter.
STATUS_DESCRIPTIONS = {
    ProposalStatus.DRAFT: _l("Only you can see this draft. Submit it to make it public."),
    ProposalStatus.SUBMITTED: _l("Submitted and public; waiting for review."),
    ProposalStatus.UNDER_REVIEW: _l("Reviewers are checking its feasibility and cost."),
    ProposalStatus.FEASIBLE: _l("Found feasible; it can become a ballot project."),
    ProposalStatus.NOT_FEASIBLE: _l("Found not feasible; the reason is given below."),
    ProposalStatus.MERGED: _l("Merged into another proposal with the same idea."),
    ProposalStatus.ON_BALLOT: _l("It is a project on the ballot."),
    ProposalStatus.WITHDRAWN: _l("Withdrawn by its author."),
}

SORT_NAMES = {
    "random": _l("Random order"),
    "supported": _l("Most supported"),
    "newest": _l("Newest"),
    "commented": _l("Most commented"),
}

LANGUAGE_NAMES = {"en": _l("English"), "fr": _l("French")}
# Whole headings, not "Translation into %(language)s": French writes language names in lower case there.
TRANSLATION_HEADINGS = {"en": _l("Translation into English"), "fr": _l("Translation into French")}
ORIGINAL_HEADINGS = {"en": _l("The original, in English"), "fr": _l("The original, in French")}

# Steps of the public history that are not plain status changes.
EVENT_NAMES = {
    "hidden": _l("Hidden by moderators"),
    "restored": _l("Restored by moderators"),
    "merged": _l("Merged"),
}
