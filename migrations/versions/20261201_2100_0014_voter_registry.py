"""voter registry: imports and entries kept only as keyed hashes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:00:00

``voter_registry_imports``: each registry file staff imported for a cycle (who, when, row counts and
the line, column and reason code of rejected rows, never their content). ``voter_registry_entries``:
one line a person, the HMAC-SHA-256 of their canonical identity (pb/registry_identity.py) and their
district, unique per cycle; the account it confirmed, if any (see pb/models/registry.py).
"""

import sqlalchemy as sa
from alembic import op

import pb.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voter_registry_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('entries_replaced', sa.Integer(), nullable=False),
    sa.Column('rejections', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voter_registry_imports_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_voter_registry_imports_imported_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_registry_imports'))
    )
    with op.batch_alter_table('voter_registry_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_registry_imports_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('voter_registry_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('matched_user_id', sa.Integer(), nullable=True),
    sa.Column('matched_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_voter_registry_entries_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_voter_registry_entries_district_id_districts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['import_id'], ['voter_registry_imports.id'], name=op.f('fk_voter_registry_entries_import_id_voter_registry_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['matched_user_id'], ['users.id'], name=op.f('fk_voter_registry_entries_matched_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_registry_entries')),
    sa.UniqueConstraint('cycle_id', 'digest', name=op.f('uq_voter_registry_entries_cycle_id_digest'))
    )
    with op.batch_alter_table('voter_registry_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voter_registry_entries_import_id'), ['import_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voter_registry_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_registry_entries_import_id'))

    op.drop_table('voter_registry_entries')
    with op.batch_alter_table('voter_registry_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voter_registry_imports_cycle_id'))

    op.drop_table('voter_registry_imports')
