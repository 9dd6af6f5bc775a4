"""reports: stored report runs (My Reports)

Revision ID: 0010_reports
Revises: 0009_reviews
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa
import edlink.types  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0010_reports'
down_revision = '0009_reviews'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=300), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('mimetype', sa.String(length=120), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('worker', sa.String(length=160), nullable=True),
    sa.Column('created_at', edlink.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', edlink.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', edlink.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', edlink.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requester_id'], ['user_account.id'], name=op.f('fk_report_run_requester_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_run'))
    )
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.create_index('ix_report_run_requester_created', ['requester_id', 'created_at'], unique=False)
        batch_op.create_index('ix_report_run_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_report_run_expires', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('report_run', schema=None) as batch_op:
        batch_op.drop_index('ix_report_run_expires')
        batch_op.drop_index('ix_report_run_status')
        batch_op.drop_index('ix_report_run_requester_created')
    op.drop_table('report_run')
