"""The interface every identity provider implements."""
from __future__ import annotations

from flask import Flask

from edlink.models import User


class IdentityProvider:
    name = "base"
    #: True when sign-in is our own username/password form (the local provider)
    password_form = False

    def __init__(self, app: Flask):
        self.app = app

    def begin_login(self, next_url: str):
        """A response that starts sign-in at the provider, or None to show our form."""
        return None

    def authenticate(self, username: str, password: str, remote_addr: str | None):
        """Check a username and password (password_form providers only)."""
        raise TypeError(f"the {self.name} provider does not take passwords")

    def user_for_bearer(self, token: str) -> User | None:
        """The user an access token from this provider belongs to (None if not valid)."""
        return None

    def logout_url(self, user: User) -> str | None:
        """Where to send the browser to end the session at the provider too."""
        return None
