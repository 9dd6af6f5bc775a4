"""Roles: the catalog, grants and the gate."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Offer the gate to the packages below roles (edlink reaches it through edlink.authz)."""
    from roles import gate
    app.extensions["edlink.gate"] = gate
