"""Auditor reports: a registry of report kinds (audit.reports.registry), their formats, background
runs kept in My Reports, and the pages and API. See each module's docstring."""
from __future__ import annotations

from flask import Flask

DEFAULTS = {"REPORT_BACKGROUND_ROWS": 5000, "REPORT_RETENTION_DAYS": 14, "REPORT_WORKER_POLL_SECONDS": 5}


def init_app(app: Flask) -> None:
    """Settings, the built-in report kinds, the ``reports.purge`` job and the worker thread."""
    from edlink import jobs
    from edlink.config import ConfigError

    for key, default in DEFAULTS.items():
        app.config.setdefault(key, default)
        try:
            app.config[key] = int(app.config[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"EDLINK_{key} must be a whole number, not {app.config[key]!r}") from exc
        if app.config[key] < 1:
            raise ConfigError(f"EDLINK_{key} must be at least 1")
    flag = app.config.setdefault("REPORT_WORKER", not app.testing)
    if isinstance(flag, str):
        app.config["REPORT_WORKER"] = flag.strip().lower() not in ("0", "false", "no", "off", "")

    from audit.reports import access_at, myreports, registry, security_audit, user_by_application, worker
    for kind in (security_audit.KIND, user_by_application.KIND, access_at.WHO_KIND, access_at.WHAT_KIND):
        registry.register(app, kind)
    jobs.register(app, "reports.purge", myreports.purge)
    worker.init_app(app)
