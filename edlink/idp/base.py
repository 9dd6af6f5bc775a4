"""The interface every identity provider implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from edlink.models import User


class SignInError(Exception):
    """Sign-in at the provider did not end with a verified person. ``reason`` is the stable code
    recorded on ``user.login_failed``; ``message`` is what the person reads; ``status`` the HTTP
    status of the page that says so (never 500: a provider's trouble is not our bug)."""

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


@dataclass
class SignInResult:
    """A verified sign-in: who, where to go next, and what the session must keep for sign-out."""

    user: User
    next_url: str
    session: dict[str, Any] = field(default_factory=dict)


class BearerUnavailable(Exception):
    """A bearer token could not be checked because the provider does not answer."""


class IdentityProvider:
    name = "base"
    #: True when sign-in is our own username/password form (the local provider)
    password_form = False

    def __init__(self, app: Flask):
        self.app = app

    def begin_login(self, next_url: str):
        """A response that starts sign-in at the provider, or None to show our form.
        Raises SignInError (already audited) when sign-in cannot start."""
        return None

    def finish_login(self, args) -> SignInResult:
        """Complete a sign-in from the provider's redirect back to us (its query ``args``).
        Raises SignInError (already audited) when it cannot."""
        raise TypeError(f"the {self.name} provider does not redirect back")

    def authenticate(self, username: str, password: str, remote_addr: str | None):
        """Check a username and password (password_form providers only)."""
        raise TypeError(f"the {self.name} provider does not take passwords")

    def user_for_bearer(self, token: str) -> User | None:
        """The user an access token from this provider belongs to (None if not valid).
        Raises BearerUnavailable when the provider is needed to tell and does not answer."""
        return None

    def logout_url(self, user: User) -> str | None:
        """Where to send the browser to end the session at the provider too."""
        return None
