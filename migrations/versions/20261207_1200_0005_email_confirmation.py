"""e-mail confirmation: accounts confirm their address before taking part

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-07 12:00:00

Accounts that exist before this revision were made when no confirmation was asked; they count as
confirmed from their creation, so nobody is locked out by the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email_confirmed_at")
