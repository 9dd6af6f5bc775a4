"""Roles: the catalog, grants and the gate."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Offer the gate to the packages below roles (edlink reaches it through edlink.authz)."""
    from edlink import jobs
    from roles import authz, gate, provisioning
    app.extensions["edlink.gate"] = gate
    authz.init_app(app)  # the authz check's lean path, before every other before-request function
    jobs.register(app, "provisioning.push", provisioning.push)
    jobs.register(app, "provisioning.reconcile", provisioning.reconcile)
