"""The gate as seen from the edlink package.

edlink sits below roles in the import order, so it asks the gate that the app factory
registered (``roles.init_app``) instead of importing it. Same arguments as ``roles.gate``:
``can(user, permission, org)`` or ``can(permission, org)`` for the signed-in user; ``can``
answers a Decision (truthy when allowed, with ``reason`` and ``code``).
"""
from __future__ import annotations

from flask import current_app


def _gate():
    return current_app.extensions["edlink.gate"]


def can(*args, **kwargs):
    return _gate().can(*args, **kwargs)


def require(*args, **kwargs):
    return _gate().require(*args, **kwargs)


def orgs_with(*args, **kwargs) -> set[int]:
    return _gate().orgs_with(*args, **kwargs)
