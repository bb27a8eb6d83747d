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
from pb.models.outbox import MailStatus, OutboxMail
from pb.models.user import Role, RoleGrant, User

__all__ = [
    "AuditLogEntry",
    "AuditLogHead",
    "BallotType",
    "Category",
    "Cycle",
    "District",
    "MailStatus",
    "OutboxMail",
    "Phase",
    "PhaseClosure",
    "PhaseTransition",
    "Role",
    "RoleGrant",
    "User",
]
