"""Extensions, created bare and bound in the app factory."""
from __future__ import annotations

from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
api = Api()


def savepoint():
    """A savepoint to recover from a unique-index race (an IntegrityError) and carry on.

    Only PostgreSQL needs one: there, two transactions really overlap, and an error aborts the
    transaction unless rolled back to a savepoint. SQLite runs one writer at a time, so the race
    cannot happen; and pysqlite opens no transaction before a SAVEPOINT, whose RELEASE would then
    commit everything read or written so far. There this is a no-op context.
    """
    import contextlib
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.begin_nested()
    return contextlib.nullcontext()
