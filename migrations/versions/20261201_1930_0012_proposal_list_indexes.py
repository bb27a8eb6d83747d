"""proposal list indexes: the list is cut on ids before any wide row is read

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:30:00

``ix_proposals_cycle_status_id`` (cycle, status, id) replaces ``ix_proposals_cycle_status``: the
list's count and its per-visitor random order are index-only scans of it. The "most supported" and
"most commented" sorts walk ``ix_proposals_cycle_supports`` and ``ix_proposals_cycle_comments``
backwards and stop after one page.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_index("ix_proposals_cycle_status")
        batch_op.create_index("ix_proposals_cycle_status_id", ["cycle_id", "status", "id"], unique=False)
        batch_op.create_index("ix_proposals_cycle_supports", ["cycle_id", "support_count", "id"], unique=False)
        batch_op.create_index("ix_proposals_cycle_comments", ["cycle_id", "comment_count", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_index("ix_proposals_cycle_comments")
        batch_op.drop_index("ix_proposals_cycle_supports")
        batch_op.drop_index("ix_proposals_cycle_status_id")
        batch_op.create_index("ix_proposals_cycle_status", ["cycle_id", "status"], unique=False)
