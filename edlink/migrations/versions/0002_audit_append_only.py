"""audit trail append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)

Revision ID: 0002_audit_append_only
Revises: 0001_foundation

The database itself refuses to change or remove an audit event, whoever asks (the ORM refuses
too, see audit.models). Both databases raise an integrity error whose message contains
"audit_event is append-only".

SQLite note: a batch (copy-and-move) migration of audit_event recreates the table and loses
these triggers; such a migration must create them again (``create_sqlite_triggers`` below).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_audit_append_only'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None

MESSAGE = 'audit_event is append-only'

SQLITE_TRIGGERS = {
    'audit_event_no_update': 'UPDATE',
    'audit_event_no_delete': 'DELETE',
}

PG_FUNCTION = 'audit_event_append_only'
PG_TRIGGERS = {
    'audit_event_no_update_delete': 'BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW',
    'audit_event_no_truncate': 'BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT',
}


def create_sqlite_triggers():
    for name, operation in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON audit_event "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")


def create_postgresql_triggers():
    # SQLSTATE 23000 (integrity_constraint_violation): the driver raises an IntegrityError,
    # as SQLite's RAISE(ABORT) does.
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END
        $$""")
    for name, when in PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {PG_FUNCTION}()")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        create_sqlite_triggers()
    elif dialect == 'postgresql':
        create_postgresql_triggers()
    else:
        raise NotImplementedError(f'no append-only triggers for {dialect}')


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    elif dialect == 'postgresql':
        for name in PG_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON audit_event')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
