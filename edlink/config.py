"""Configuration: defaults, then instance/edlink.toml, then EDLINK_* variables, then the
mapping given to ``create_app``. Nothing here is read at import time."""
from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"
DEFAULT_AUDIT_KEY = "dev-only-audit-key-change-me"

DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # EDLINK_ENV=production turns on the production checks
    "DATABASE_URL": None,  # default: SQLite file under the instance folder
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "AUDIT_KEY": DEFAULT_AUDIT_KEY,
    "IDP": "local",
    "KEYCLOAK_URL": None,
    "KEYCLOAK_REALM": None,
    "KEYCLOAK_CLIENT_ID": None,
    "KEYCLOAK_CLIENT_SECRET": None,
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "MAIL_FROM": "edlink@localhost",
    "IDLE_TIMEOUT_MINUTES": 30,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "LINK_MAX_FAILURES_PER_HOUR": 5,
    "PAGE_SIZE": 25,
    # Flask / extensions
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "edlink_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_CHECK_DEFAULT": False,  # checked in edlink.auth for forms and session API calls
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "BOOTSTRAP_SERVE_LOCAL": True,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "API_TITLE": "EdLink API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
}


class ConfigError(RuntimeError):
    """The configuration cannot be used (the app refuses to start)."""


def _strip_prefix(mapping: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in mapping.items():
        key = key.upper()
        out[key[len("EDLINK_"):] if key.startswith("EDLINK_") else key] = value
    return out


def load_toml(path: str) -> dict[str, Any]:
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as fh:
        try:
            return _strip_prefix(tomllib.load(fh))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc


def finalise(config: Any, instance_path: str) -> None:
    """Derive dependent settings and refuse unsafe production configurations."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "edlink.db")
    url = str(config["DATABASE_URL"])
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=int(config["IDLE_TIMEOUT_MINUTES"]))
    config["IDP"] = str(config["IDP"]).lower()
    if config["IDP"] not in ("local", "keycloak"):
        raise ConfigError(f"EDLINK_IDP must be 'local' or 'keycloak', not {config['IDP']!r}")
    production = str(config["ENV"]).lower() == "production"
    config["PRODUCTION"] = production
    if production:
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
            raise ConfigError("production mode needs EDLINK_SECRET_KEY set to a secret of your own")
        if not config.get("AUDIT_KEY") or config["AUDIT_KEY"] == DEFAULT_AUDIT_KEY:
            raise ConfigError("production mode needs EDLINK_AUDIT_KEY set to a secret of your own")
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
