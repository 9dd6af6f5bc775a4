"""ser part 2: IEPs and their forms and versions, the rest of the service record, special
education activity, post-school transition surveys, SIS exit records

Revision ID: 0012_ser_ieps
Revises: 0011_ser
"""
from alembic import op
import sqlalchemy as sa
import edlink.types  # noqa: F401  (custom column types)

revision = '0012_ser_ieps'
down_revision = '0011_ser'
branch_labels = None
depends_on = None

UTC = edlink.types.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('ser_service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('minutes_per_week', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('teacher_staff_id', sa.String(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('terminated_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('terminated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ser_service_created_by_id_user_account'), 'user_account',
                                    ['created_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_ser_service_terminated_by_id_user_account'), 'user_account',
                                    ['terminated_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_ser_service_replaces_id_ser_service'), 'ser_service',
                                    ['replaces_id'], ['id'])
        batch_op.create_index('ix_ser_service_provider', ['provider_staff_id', 'end_date'], unique=False)

    op.create_table('ser_iep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('lea_id', sa.Integer(), nullable=False),
    sa.Column('iep_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('team_meeting_date', sa.Date(), nullable=True),
    sa.Column('begin_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('submitted', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', UTC, nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('made_official_at', UTC, nullable=True),
    sa.Column('validated_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['ser_student.id'], name=op.f('fk_ser_iep_student_id_ser_student')),
    sa.ForeignKeyConstraint(['lea_id'], ['org.id'], name=op.f('fk_ser_iep_lea_id_org')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_ser_iep_submitted_by_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_ser_iep_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_iep'))
    )
    with op.batch_alter_table('ser_iep', schema=None) as batch_op:
        batch_op.create_index('ix_ser_iep_student', ['student_id', 'team_meeting_date'], unique=False)

    op.create_table('ser_iep_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iep_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['iep_id'], ['ser_iep.id'], name=op.f('fk_ser_iep_form_iep_id_ser_iep')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_iep_form')),
    sa.UniqueConstraint('iep_id', 'code', name=op.f('uq_ser_iep_form_iep_id'))
    )
    op.create_table('ser_iep_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iep_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('made_official_at', UTC, nullable=False),
    sa.Column('made_official_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['iep_id'], ['ser_iep.id'], name=op.f('fk_ser_iep_version_iep_id_ser_iep')),
    sa.ForeignKeyConstraint(['made_official_by_id'], ['user_account.id'],
                            name=op.f('fk_ser_iep_version_made_official_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_iep_version')),
    sa.UniqueConstraint('iep_id', 'version', name=op.f('uq_ser_iep_version_iep_id'))
    )
    op.create_table('ser_sped_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('lea_id', sa.Integer(), nullable=False),
    sa.Column('begin_date', sa.Date(), nullable=False),
    sa.Column('opened_by_iep_id', sa.Integer(), nullable=True),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.String(length=80), nullable=True),
    sa.Column('exit_lea_id', sa.Integer(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['ser_student.id'], name=op.f('fk_ser_sped_activity_student_id_ser_student')),
    sa.ForeignKeyConstraint(['lea_id'], ['org.id'], name=op.f('fk_ser_sped_activity_lea_id_org')),
    sa.ForeignKeyConstraint(['exit_lea_id'], ['org.id'], name=op.f('fk_ser_sped_activity_exit_lea_id_org')),
    sa.ForeignKeyConstraint(['opened_by_iep_id'], ['ser_iep.id'], name=op.f('fk_ser_sped_activity_opened_by_iep_id_ser_iep')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_ser_sped_activity_closed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_sped_activity'))
    )
    with op.batch_alter_table('ser_sped_activity', schema=None) as batch_op:
        batch_op.create_index('ix_ser_sped_activity_student', ['student_id', 'begin_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_ser_sped_activity_exit_date'), ['exit_date'], unique=False)

    op.create_table('ser_pst_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('survey_date', sa.Date(), nullable=False),
    sa.Column('unable_to_contact', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('work_type', sa.String(length=60), nullable=False),
    sa.Column('recorded_at', UTC, nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['ser_sped_activity.id'], name=op.f('fk_ser_pst_survey_activity_id_ser_sped_activity')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_ser_pst_survey_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_pst_survey')),
    sa.UniqueConstraint('activity_id', 'kind', name=op.f('uq_ser_pst_survey_activity_id'))
    )
    op.create_table('ser_sis_exit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.String(length=10), nullable=False),
    sa.Column('lea_code', sa.String(length=20), nullable=False),
    sa.Column('exit_code', sa.String(length=10), nullable=False),
    sa.Column('exit_date', sa.Date(), nullable=False),
    sa.Column('imported_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ser_sis_exit')),
    sa.UniqueConstraint('state_id', 'lea_code', 'exit_date', name=op.f('uq_ser_sis_exit_state_id'))
    )
    with op.batch_alter_table('ser_sis_exit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ser_sis_exit_state_id'), ['state_id'], unique=False)


def downgrade():
    op.drop_table('ser_sis_exit')
    op.drop_table('ser_pst_survey')
    op.drop_table('ser_sped_activity')
    op.drop_table('ser_iep_version')
    op.drop_table('ser_iep_form')
    op.drop_table('ser_iep')
    with op.batch_alter_table('ser_service', schema=None) as batch_op:
        batch_op.drop_index('ix_ser_service_provider')
        batch_op.drop_constraint(batch_op.f('fk_ser_service_replaces_id_ser_service'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ser_service_terminated_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_ser_service_created_by_id_user_account'), type_='foreignkey')
        for name in ('replaces_id', 'terminated_by_id', 'terminated_at', 'created_by_id', 'teacher_staff_id',
                     'minutes_per_week', 'location'):
            batch_op.drop_column(name)
