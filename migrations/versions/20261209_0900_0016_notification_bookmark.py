"""notification bookmark: a round reads the news newer than one shared bookmark, not every follow

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09 09:00:00

``notification_bookmarks`` holds one row: how far the notification rounds have read status changes
and comments (absent until the first round, which then reads every past event once).
``pending_notifications`` keeps each piece of news a follower has not been mailed yet (a daily
digest that is not due yet). ``ix_comments_created_at`` lets a round read only the new comments.
"""

import sqlalchemy as sa
from alembic import op

import pb.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_bookmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("read_until", pb.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_bookmarks")),
    )
    op.create_table(
        "pending_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("status_change_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(comment_id IS NULL) <> (status_change_id IS NULL)", name=op.f("ck_pending_notifications_one_event")
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_pending_notifications_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"], ["proposal_status_changes.id"],
            name=op.f("fk_pending_notifications_status_change_id_proposal_status_changes"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pending_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_notifications")),
        sa.UniqueConstraint("user_id", "comment_id", name=op.f("uq_pending_notifications_user_id_comment_id")),
        sa.UniqueConstraint(
            "user_id", "status_change_id", name=op.f("uq_pending_notifications_user_id_status_change_id")
        ),
    )
    with op.batch_alter_table("comments") as batch_op:
        batch_op.create_index("ix_comments_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch_op:
        batch_op.drop_index("ix_comments_created_at")
    op.drop_table("pending_notifications")
    op.drop_table("notification_bookmarks")
