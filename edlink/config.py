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
    "KEYCLOAK_AUDIENCE": None,  # what bearer access tokens must carry in aud; default: the client id
    "KEYCLOAK_TOKEN_VERIFICATION": "jwt",  # jwt (signature and claims) | introspection (asks the realm)
    "KEYCLOAK_JWKS_CACHE_SECONDS": 300,  # how long the realm's keys and discovery document are reused
    "KEYCLOAK_LEEWAY_SECONDS": 30,  # clock skew allowed on exp / iat
    "KEYCLOAK_TIMEOUT_SECONDS": 10,  # each call to the realm
    "KEYCLOAK_SCOPE": "openid profile email",
    "KEYCLOAK_CA_BUNDLE": None,
    # role pushes (issue 8): the admin API, through a service-account client of the realm
    "KEYCLOAK_ADMIN_URL": None,            # default: EDLINK_KEYCLOAK_URL
    "KEYCLOAK_ADMIN_CLIENT_ID": None,      # default: EDLINK_KEYCLOAK_CLIENT_ID
    "KEYCLOAK_ADMIN_CLIENT_SECRET": None,  # default: EDLINK_KEYCLOAK_CLIENT_SECRET
    "PROVISIONING_RETRY_BASE_SECONDS": 60,
    "PROVISIONING_RETRY_MAX_SECONDS": 3600,
    "PROVISIONING_BATCH_SIZE": 200,  # a CA file for the realm's TLS certificate (default: the system's)
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "MAIL_FROM": "edlink@localhost",
    "SMTP_SECURITY": "none",  # none | starttls | tls (implicit TLS, usually port 465)
    "SMTP_USERNAME": None,  # log in when set
    "SMTP_PASSWORD": None,
    "SMTP_TIMEOUT_SECONDS": 30,
    "MAIL_MAX_ATTEMPTS": 8,  # then the message is marked failed with its last error
    "MAIL_RETRY_BASE_SECONDS": 60,  # backoff: base, 2 x base, 4 x base, ... up to the cap
    "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
    "MAIL_LEASE_SECONDS": 300,  # a claimed message is another dispatcher's to retry after this
    "MAIL_BATCH_SIZE": 200,  # messages one dispatch run sends at most
    "BASE_URL": "http://127.0.0.1:5000",  # links in e-mails
    "DIGEST_HOUR": 7,  # daily digests go out at this hour, in MAIL_TIMEZONE
    "MAIL_TIMEZONE": "UTC",  # dates in messages and the digest hour (an IANA name)
    "IDLE_TIMEOUT_MINUTES": 30,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "LINK_MAX_FAILURES_PER_HOUR": 5,
    "PAGE_SIZE": 25,
    # requests: business-day deadlines (edlink.calendar)
    "TIMEZONE": "America/Chicago",
    "HOLIDAYS": [],
    "STAGE_DEADLINE_BUSINESS_DAYS": 5,
    "REQUEST_EXPIRY_BUSINESS_DAYS": 20,
    # lifecycle (workflows): inactivity, the confidentiality statement, grant end dates
    "INACTIVITY_DAYS": 90,  # no sign-in for this long suspends a person's grants (users.inactivity)
    "STATEMENT_REMINDER_DAYS": [30, 7],  # attestation.due reminders, days before a signature lapses
    "GRANT_EXPIRY_NOTICE_DAYS": 7,  # grant.expiring notice, days before a grant's end (grants.expire)
    # the scheduler (edlink.scheduler, edlink.schedule)
    "JOB_SCHEDULE": {},  # job name -> seconds | "daily HH:MM" | "cron M H DOM MON DOW" | "off"
    "AUDIT_VERIFY_HOUR": 2,  # audit.verify runs daily at this hour, in TIMEZONE
    "SCHEDULER_LEASE_SECONDS": 60,  # a scheduler that stops renewing is taken over after this
    "SCHEDULER_TICK_SECONDS": 5,  # how often the lease holder looks for due jobs
    "JOB_RUN_RETENTION_DAYS": 90,  # job_run rows older than this are pruned by the scheduler (0: keep)
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
    _mail_settings(config)
    _scheduler_settings(config)
    if config["IDP"] == "keycloak":
        _keycloak_settings(config)
    production = str(config["ENV"]).lower() == "production"
    config["PRODUCTION"] = production
    if production:
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
            raise ConfigError("production mode needs EDLINK_SECRET_KEY set to a secret of your own")
        if not config.get("AUDIT_KEY") or config["AUDIT_KEY"] == DEFAULT_AUDIT_KEY:
            raise ConfigError("production mode needs EDLINK_AUDIT_KEY set to a secret of your own")
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        if config["IDP"] == "keycloak" and not _https_or_loopback(config["KEYCLOAK_URL"]):
            raise ConfigError("production mode needs EDLINK_KEYCLOAK_URL on https://")


def _https_or_loopback(url: str) -> bool:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.hostname in ("127.0.0.1", "::1", "localhost")


def _keycloak_settings(config: Any) -> None:
    """EDLINK_IDP=keycloak: the realm and client are required; the rest has defaults."""
    for key in ("KEYCLOAK_URL", "KEYCLOAK_REALM", "KEYCLOAK_CLIENT_ID", "KEYCLOAK_CLIENT_SECRET"):
        if not str(config.get(key) or "").strip():
            raise ConfigError(f"EDLINK_IDP=keycloak needs EDLINK_{key}")
        config[key] = str(config[key]).strip()
    url = config["KEYCLOAK_URL"]
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"EDLINK_KEYCLOAK_URL must be an http(s) URL, not {url!r}")
    config["KEYCLOAK_URL"] = url.rstrip("/") + "/"
    config["KEYCLOAK_AUDIENCE"] = str(config.get("KEYCLOAK_AUDIENCE") or config["KEYCLOAK_CLIENT_ID"])
    mode = str(config["KEYCLOAK_TOKEN_VERIFICATION"] or "jwt").lower()
    if mode not in ("jwt", "introspection"):
        raise ConfigError(f"EDLINK_KEYCLOAK_TOKEN_VERIFICATION must be jwt or introspection, not {mode!r}")
    config["KEYCLOAK_TOKEN_VERIFICATION"] = mode
    for key in ("KEYCLOAK_JWKS_CACHE_SECONDS", "KEYCLOAK_LEEWAY_SECONDS", "KEYCLOAK_TIMEOUT_SECONDS"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"EDLINK_{key} must be a whole number, not {config[key]!r}") from exc
        if config[key] < (1 if key == "KEYCLOAK_TIMEOUT_SECONDS" else 0):
            raise ConfigError(f"EDLINK_{key} is out of range: {config[key]}")
    scopes = str(config["KEYCLOAK_SCOPE"] or "").split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    config["KEYCLOAK_SCOPE"] = " ".join(scopes)


def _mail_settings(config: Any) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    config["SMTP_SECURITY"] = str(config["SMTP_SECURITY"] or "none").lower()
    if config["SMTP_SECURITY"] not in ("none", "starttls", "tls"):
        raise ConfigError(f"EDLINK_SMTP_SECURITY must be none, starttls or tls, not {config['SMTP_SECURITY']!r}")
    for key in ("SMTP_PORT", "SMTP_TIMEOUT_SECONDS", "MAIL_MAX_ATTEMPTS", "MAIL_RETRY_BASE_SECONDS",
                "MAIL_RETRY_MAX_SECONDS", "MAIL_LEASE_SECONDS", "MAIL_BATCH_SIZE", "DIGEST_HOUR"):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"EDLINK_{key} must be a whole number, not {config[key]!r}") from exc
    if config["MAIL_MAX_ATTEMPTS"] < 1:
        raise ConfigError("EDLINK_MAIL_MAX_ATTEMPTS must be at least 1")
    if not 0 <= config["DIGEST_HOUR"] <= 23:
        raise ConfigError("EDLINK_DIGEST_HOUR must be an hour from 0 to 23")
    try:
        ZoneInfo(str(config["MAIL_TIMEZONE"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"EDLINK_MAIL_TIMEZONE is not a known time zone: {config['MAIL_TIMEZONE']!r}") from exc
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")


def _scheduler_settings(config: Any) -> None:
    from zoneinfo import ZoneInfoNotFoundError

    from edlink.schedule import ScheduleError, check
    for key, low in (("SCHEDULER_LEASE_SECONDS", 3), ("SCHEDULER_TICK_SECONDS", 1), ("AUDIT_VERIFY_HOUR", 0),
                     ("JOB_RUN_RETENTION_DAYS", 0)):
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"EDLINK_{key} must be a whole number, not {config[key]!r}") from exc
        if config[key] < low:
            raise ConfigError(f"EDLINK_{key} must be at least {low}")
    if config["AUDIT_VERIFY_HOUR"] > 23:
        raise ConfigError("EDLINK_AUDIT_VERIFY_HOUR must be an hour from 0 to 23")
    try:
        check(config)
    except ScheduleError as exc:
        raise ConfigError(f"EDLINK_JOB_SCHEDULE: {exc}") from exc
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"EDLINK_TIMEZONE is not a known time zone: {config['TIMEZONE']!r}") from exc
