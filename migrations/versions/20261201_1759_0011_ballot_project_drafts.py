"""ballot project drafts: budget delegates draft ballot projects, staff confirm them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 17:59:25

``ballot_projects.drafted_by_role`` says whether a delegate or staff drafted the project;
``confirmed_by_id`` and ``confirmed_at`` say which staff member confirmed it and when (a draft has
none, and only confirmed projects are on the ballot). Every existing project was made by staff, so
it is marked confirmed by its creator when it was created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ballot_projects") as batch_op:
        batch_op.add_column(sa.Column("drafted_by_role", sa.String(length=20), server_default="staff", nullable=False))
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ballot_projects_confirmed_by_id_users"), "users", ["confirmed_by_id"], ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE ballot_projects SET confirmed_by_id = created_by_id, confirmed_at = created_at")


def downgrade() -> None:
    # Drafts were never on the ballot: they go, and their proposals stay feasible.
    op.execute(
        "DELETE FROM ballot_project_proposals WHERE project_id IN "
        "(SELECT id FROM ballot_projects WHERE confirmed_at IS NULL)"
    )
    op.execute("DELETE FROM ballot_projects WHERE confirmed_at IS NULL")
    with op.batch_alter_table("ballot_projects") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ballot_projects_confirmed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("confirmed_by_id")
        batch_op.drop_column("drafted_by_role")
