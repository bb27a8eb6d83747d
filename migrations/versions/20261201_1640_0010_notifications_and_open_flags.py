"""notifications: each account's mail preference and how far its mail has got; one open flag per person

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:40:00

``users.notify_mode`` is "daily" (one digest a day at most), "immediate" or "off";
``notified_until`` and ``last_digest_at`` let the worker build mail from the status changes and
comments since each person's last one. A flag's uniqueness now holds for open flags only, so a
person may flag a subject again after moderators have acted on their first flag.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _flag_indexes(batch_op, open_only: bool) -> None:
    extra = " AND resolved_at IS NULL" if open_only else ""
    for name, column, other in (
        ("uq_flags_user_proposal", "proposal_id", "comment_id"),
        ("uq_flags_user_comment", "comment_id", "proposal_id"),
    ):
        where = sa.text(f"{other} IS NULL{extra}")
        batch_op.create_index(name, ["user_id", column], unique=True, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("notify_mode", sa.String(length=10), server_default="daily", nullable=False))
        batch_op.add_column(sa.Column("notified_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("flags") as batch_op:
        batch_op.drop_index("uq_flags_user_proposal")
        batch_op.drop_index("uq_flags_user_comment")
        _flag_indexes(batch_op, open_only=True)
        batch_op.create_index("ix_flags_open", ["resolved_at", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flags") as batch_op:
        batch_op.drop_index("ix_flags_open")
        batch_op.drop_index("uq_flags_user_proposal")
        batch_op.drop_index("uq_flags_user_comment")
    # Resolved flags may repeat an open one: keep the latest per person and subject.
    op.execute(
        "DELETE FROM flags WHERE resolved_at IS NOT NULL AND EXISTS (SELECT 1 FROM flags AS newer "
        "WHERE newer.user_id = flags.user_id AND newer.id > flags.id "
        "AND (newer.proposal_id = flags.proposal_id OR newer.comment_id = flags.comment_id))"
    )
    with op.batch_alter_table("flags") as batch_op:
        _flag_indexes(batch_op, open_only=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_digest_at")
        batch_op.drop_column("notified_until")
        batch_op.drop_column("notify_mode")
