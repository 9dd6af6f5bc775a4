"""Identity providers behind one small interface, chosen by EDLINK_IDP.

A provider says how a person signs in (a password form here, or a redirect to the realm),
how a bearer token that is not a personal API token is verified, and where sign-out ends.
"""
from __future__ import annotations

from flask import Flask, current_app

from edlink.idp.base import BearerUnavailable, IdentityProvider, SignInError, SignInResult
from edlink.idp.keycloak import KeycloakProvider
from edlink.idp.local import LocalProvider

__all__ = ["BearerUnavailable", "IdentityProvider", "SignInError", "SignInResult", "provider"]

PROVIDERS: dict[str, type[IdentityProvider]] = {"local": LocalProvider, "keycloak": KeycloakProvider}


def init_app(app: Flask) -> None:
    name = app.config["IDP"]
    if name not in PROVIDERS:
        from edlink.config import ConfigError
        raise ConfigError(f"EDLINK_IDP={name}: that identity provider is not available in this build")
    app.extensions["edlink.idp"] = PROVIDERS[name](app)


def provider() -> IdentityProvider:
    return current_app.extensions["edlink.idp"]
