"""Roles: the catalog, grants and the gate."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Offer the gate to the packages below roles (edlink reaches it through edlink.authz)."""
    from edlink import jobs
    from roles import gate, provisioning
    app.extensions["edlink.gate"] = gate
    jobs.register(app, "provisioning.push", provisioning.push)
    jobs.register(app, "provisioning.reconcile", provisioning.reconcile)
