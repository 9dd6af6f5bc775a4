"""The built-in provider: local users with argon2id passwords and lock-out."""
from __future__ import annotations

from edlink.idp.base import IdentityProvider
from edlink.users import authenticate_local


class LocalProvider(IdentityProvider):
    name = "local"
    password_form = True

    def authenticate(self, username: str, password: str, remote_addr: str | None):
        return authenticate_local(username, password, remote_addr=remote_addr)
