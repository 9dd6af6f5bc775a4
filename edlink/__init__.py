"""EdLink: access provisioning for a state education agency and its school systems."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, instance/edlink.toml, EDLINK_* variables, then ``config``."""
    from edlink import config as cfg

    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("EDLINK_INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None,
                instance_relative_config=True)
    app.config.from_mapping(cfg.DEFAULTS)
    app.config.from_mapping(cfg.load_toml(os.path.join(app.instance_path, "edlink.toml")))
    app.config.from_prefixed_env("EDLINK")
    if config:
        app.config.from_mapping({k[7:] if k.startswith("EDLINK_") else k: v for k, v in config.items()})
    cfg.finalise(app.config, app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from edlink import auth, errors, idp
    from edlink.extensions import api, bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    api.init_app(app)
    errors.init_app(app)  # after the Api, whose own HTTP error handler this replaces
    auth.init_app(app)
    idp.init_app(app)

    import roles
    roles.init_app(app)

    import workflows
    workflows.init_app(app)

    import ser_core
    ser_core.init_app(app)

    # every package's models, so migrations and metadata see all tables
    import audit.models  # noqa: F401
    import edlink.job_models  # noqa: F401
    import edlink.models  # noqa: F401
    import notifications.models  # noqa: F401
    import roles.models  # noqa: F401
    import ser_core.models  # noqa: F401
    import ser_core.models_iep  # noqa: F401
    import workflows.models  # noqa: F401


SQLITE_MMAP_BYTES = 1 << 30  # address space only; pages are read as they are touched


def _sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from edlink.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # read the file through a memory map (shared with the OS's page cache) rather than a
        # 2 MB page cache per connection: a statewide report joins 264,000 grants to people
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    import notifications
    from edlink.api import register_api
    from edlink.views import bp as edlink_pages
    from edlink.views.context import init_app as init_templates
    from notifications.views import bp as notification_pages

    app.register_blueprint(edlink_pages)
    app.register_blueprint(notification_pages)
    init_templates(app)
    notifications.init_app(app)  # navigation entry, unread badge, template filter, dispatch job

    from audit import views as audit_pages
    audit_pages.init_app(app)

    from roles import views as roles_pages
    from workflows import views as workflows_pages
    roles_pages.init_app(app)
    workflows_pages.init_app(app)
    register_api(app)
