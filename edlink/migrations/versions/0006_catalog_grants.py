"""catalog in the database, grant status history columns, cache epochs

Revision ID: 0006_catalog_grants
Revises: 0005_requests
"""
from alembic import op
import sqlalchemy as sa

revision = '0006_catalog_grants'
down_revision = '0005_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cache_epoch',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_epoch'))
    )
    op.execute("INSERT INTO cache_epoch (name, value) VALUES ('gate', 1)")
    op.create_table('catalog_application',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalog_application'))
    )
    op.create_table('catalog_permission',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalog_permission'))
    )
    op.create_table('catalog_role',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('application', sa.String(length=60), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_catalog_role'))
    )
    op.create_table('provisioning_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_code', sa.String(length=60), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('application', sa.String(length=60), nullable=False),
    sa.Column('keycloak_role', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['grant.id'], name=op.f('fk_provisioning_task_grant_id_grant')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_provisioning_task_user_id_user_account')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_provisioning_task_org_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provisioning_task'))
    )
    with op.batch_alter_table('provisioning_task', schema=None) as batch_op:
        batch_op.create_index('ix_provisioning_task_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_provisioning_task_key', ['user_id', 'role_code', 'org_id'], unique=False)
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_changed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_grant_status_changed_by_id_user_account'),
                                    'user_account', ['status_changed_by_id'], ['id'])
        batch_op.create_index('ix_grant_status_role', ['status', 'role_code'], unique=False)


def downgrade():
    with op.batch_alter_table('grant', schema=None) as batch_op:
        batch_op.drop_index('ix_grant_status_role')
        batch_op.drop_constraint(batch_op.f('fk_grant_status_changed_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('status_changed_by_id')
        batch_op.drop_column('status_changed_at')
    op.drop_table('provisioning_task')
    op.drop_table('catalog_role')
    op.drop_table('catalog_permission')
    op.drop_table('catalog_application')
    op.drop_table('cache_epoch')
