"""What every template gets: the navigation for the signed-in persona."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user

from edlink import authz


def _nav() -> list[tuple[str, str]]:
    """(endpoint, label) pairs this person may use, in order."""
    if not current_user.is_authenticated:
        return []
    items = [("edlink.home", "Home"), ("edlink.account", "My account")]
    if authz.can("edlink.staff.manage") or authz.can("edlink.staff.read"):
        items.append(("edlink.staff_list", "Staff directory"))
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"nav_items": _nav(), "can": authz.can}
