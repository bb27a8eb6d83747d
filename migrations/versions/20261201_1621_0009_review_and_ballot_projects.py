"""review and ballot projects

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:21:22

Review assignments, reviews (feasibility, cost, community-safety fields, public summary, internal
notes, a suggested merge, who drafted and who confirmed), ballot projects and the proposals they came from.
"""

from alembic import op
import sqlalchemy as sa
import pb.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=150), nullable=False),
    sa.Column('title_fr', sa.String(length=150), nullable=False),
    sa.Column('description_en', sa.String(length=1000), nullable=False),
    sa.Column('description_fr', sa.String(length=1000), nullable=False),
    sa.Column('cost_cents', sa.BigInteger(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_ballot_projects_category_id_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ballot_projects_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballot_projects_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_ballot_projects_district_id_districts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_projects'))
    )
    with op.batch_alter_table('ballot_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_projects_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('ballot_project_proposals',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['ballot_projects.id'], name=op.f('fk_ballot_project_proposals_project_id_ballot_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballot_project_proposals_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'proposal_id', name=op.f('pk_ballot_project_proposals')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_ballot_project_proposals_proposal_id'))
    )
    op.create_table('review_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_review_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_review_assignments_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_assignments_reviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_assignments')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name=op.f('uq_review_assignments_proposal_id_reviewer_id'))
    )
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_assignments_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('feasibility', sa.Enum('feasible', 'not_feasible', name='feasibility', native_enum=False, length=20), nullable=True),
    sa.Column('public_reason', sa.String(length=1000), nullable=False),
    sa.Column('cost_estimate_cents', sa.BigInteger(), nullable=True),
    sa.Column('civil_liberties', sa.String(length=2000), nullable=False),
    sa.Column('equity', sa.String(length=2000), nullable=False),
    sa.Column('partner_capacity', sa.String(length=2000), nullable=False),
    sa.Column('public_summary', sa.String(length=2000), nullable=False),
    sa.Column('internal_notes', sa.Text(), nullable=False),
    sa.Column('merge_into_id', sa.Integer(), nullable=True),
    sa.Column('merge_reason', sa.String(length=1000), nullable=False),
    sa.Column('merge_suggested_by_id', sa.Integer(), nullable=True),
    sa.Column('drafted_by_id', sa.Integer(), nullable=True),
    sa.Column('drafted_by_role', sa.String(length=20), nullable=False),
    sa.Column('drafted_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', pb.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', pb.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_reviews_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['drafted_by_id'], ['users.id'], name=op.f('fk_reviews_drafted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merge_into_id'], ['proposals.id'], name=op.f('fk_reviews_merge_into_id_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merge_suggested_by_id'], ['users.id'], name=op.f('fk_reviews_merge_suggested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_reviews_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reviews_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_reviews_proposal_id'))
    )


def downgrade() -> None:
    op.drop_table('reviews')
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_assignments_reviewer_id'))

    op.drop_table('review_assignments')
    op.drop_table('ballot_project_proposals')
    with op.batch_alter_table('ballot_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_projects_cycle_id'))

    op.drop_table('ballot_projects')
