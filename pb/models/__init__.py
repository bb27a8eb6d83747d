"""Database models, one module per aggregate. Importing this package registers every table."""

from pb.models.audit_log import AuditLogEntry, AuditLogHead
from pb.models.cycle import (
    BallotType,
    Category,
    Cycle,
    District,
    Phase,
    PhaseClosure,
    PhaseTransition,
)
from pb.models.deliberation import Comment, Flag, Follow, Support
from pb.models.notification import NotificationBookmark, PendingNotification
from pb.models.outbox import MailStatus, OutboxMail
from pb.models.proposal import (
    LANGUAGES,
    PUBLIC_STATUSES,
    Proposal,
    ProposalActivity,
    ProposalStatus,
    ProposalStatusChange,
    ProposalTranslation,
)
from pb.models.registry import VoterRegistryEntry, VoterRegistryImport
from pb.models.result import Result, ResultStatus
from pb.models.review import BallotProject, Feasibility, Review, ReviewAssignment, ballot_project_proposals
from pb.models.user import Role, RoleGrant, User
from pb.models.voting import (
    Ballot,
    BallotLogEntry,
    BallotLogHead,
    BallotNonce,
    BallotStatus,
    Channel,
    EligibilityBasis,
    Participation,
    VoterCode,
    VoterCodeBatch,
    VoterEligibility,
    VotingActivity,
    VotingKey,
)

__all__ = [
    "Ballot",
    "BallotLogEntry",
    "BallotLogHead",
    "BallotNonce",
    "BallotStatus",
    "Channel",
    "EligibilityBasis",
    "Participation",
    "VoterCode",
    "VoterCodeBatch",
    "VoterEligibility",
    "VoterRegistryEntry",
    "VoterRegistryImport",
    "VotingActivity",
    "VotingKey",
    "AuditLogEntry",
    "AuditLogHead",
    "BallotProject",
    "BallotType",
    "LANGUAGES",
    "PUBLIC_STATUSES",
    "Category",
    "Comment",
    "Cycle",
    "District",
    "Feasibility",
    "Flag",
    "Follow",
    "MailStatus",
    "NotificationBookmark",
    "OutboxMail",
    "PendingNotification",
    "Phase",
    "PhaseClosure",
    "PhaseTransition",
    "Proposal",
    "ProposalActivity",
    "ProposalStatus",
    "ProposalStatusChange",
    "ProposalTranslation",
    "Result",
    "ResultStatus",
    "Review",
    "ReviewAssignment",
    "Role",
    "RoleGrant",
    "Support",
    "User",
    "ballot_project_proposals",
]
