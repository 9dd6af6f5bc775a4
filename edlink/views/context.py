"""What every template gets: the navigation for the signed-in persona.

Packages add their own entries with ``add_nav(app, endpoint, label, visible, order)``, so the
navigation grows with the blueprints without edlink importing them.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from flask_login import current_user

from edlink import authz

NAV_KEY = "edlink.nav"


def add_nav(app: Flask, endpoint: str, label: str, visible: Callable[[], bool] | None = None,
            order: int = 50) -> None:
    """Show ``label`` (linking to ``endpoint``) to signed-in users for whom ``visible()`` is true."""
    app.extensions.setdefault(NAV_KEY, []).append((order, endpoint, label, visible))
    app.extensions[NAV_KEY].sort(key=lambda item: item[0])


def _nav() -> list[tuple[str, str]]:
    """(endpoint, label) pairs this person may use, in order."""
    if not current_user.is_authenticated:
        return []
    return [(endpoint, label) for _order, endpoint, label, visible in current_app.extensions.get(NAV_KEY, [])
            if visible is None or visible()]


def init_app(app: Flask) -> None:
    add_nav(app, "edlink.home", "Home", order=0)
    add_nav(app, "edlink.account", "My account", order=10)
    add_nav(app, "edlink.staff_list", "Staff directory",
            lambda: authz.can("edlink.staff.manage") or authz.can("edlink.staff.read"), order=20)
    from edlink.views import jobs
    jobs.init_app(app)

    @app.context_processor
    def _globals():
        return {"nav_items": _nav(), "can": authz.can}
