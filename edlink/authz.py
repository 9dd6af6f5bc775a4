"""The gate as seen from the edlink package.

edlink sits below roles in the import order, so it asks the gate that the app factory
registered (``roles.init_app``) instead of importing it.
"""
from __future__ import annotations

from flask import current_app


def _gate():
    return current_app.extensions["edlink.gate"]


def can(permission: str, org=None, user=None) -> bool:
    return _gate().can(permission, org, user)


def require(permission: str, org=None, user=None) -> None:
    _gate().require(permission, org, user)


def orgs_with(permission: str, user=None) -> set[int]:
    return _gate().orgs_with(permission, user)
