"""Keycloak's admin API, as EdLink's role pushes and reconciliation need it.

A service-account client (client-credentials grant) of the realm calls the admin REST API
through python-keycloak's KeycloakAdmin. It needs the realm-management client roles
``view-users``, ``view-clients`` and ``manage-users`` (to read users and map roles) and
``manage-clients`` (to create the client roles EdLink names), or ``manage-realm`` for realm roles.

Roles reach Keycloak either as client roles of a named client (``kind = "client"``) or as realm
roles (``kind = "realm"``). Every failure to reach or use the realm raises KeycloakUnavailable:
the caller retries later and loses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


class KeycloakUnavailable(Exception):
    """The realm did not answer, or refused the call: try again later."""


@dataclass(frozen=True)
class RoleTarget:
    kind: str            # "client" | "realm"
    client: str | None   # the clientId, for client roles

    def describe(self) -> str:
        return f"client roles of {self.client}" if self.kind == "client" else "realm roles"


class AdminClient:
    def __init__(self, *, server_url: str, realm: str, client_id: str, client_secret: str,
                 timeout: int = 10, verify: bool | str = True):
        from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
        self.server_url = server_url
        self._admin = KeycloakAdmin(connection=KeycloakOpenIDConnection(
            server_url=server_url, realm_name=realm, client_id=client_id, client_secret_key=client_secret,
            timeout=timeout, verify=verify))
        self._client_ids: dict[str, str] = {}

    def _call(self, what: str, fn, *args, **kwargs):
        from keycloak.exceptions import KeycloakError
        from requests.exceptions import RequestException
        try:
            return fn(*args, **kwargs)
        except (KeycloakError, RequestException, ValueError, KeyError, TypeError) as exc:
            raise KeycloakUnavailable(f"{what}: {str(exc)[:300] or type(exc).__name__} "
                                      f"(Keycloak at {self.server_url})") from exc

    def _client(self, target: RoleTarget) -> str:
        uuid = self._client_ids.get(target.client)
        if uuid is None:
            uuid = self._call(f"find client {target.client}", self._admin.get_client_id, target.client)
            if not uuid:
                raise KeycloakUnavailable(f"the realm has no client {target.client!r}")
            self._client_ids[target.client] = uuid
        return uuid

    def user_id(self, username: str) -> str | None:
        return self._call(f"find user {username}", self._admin.get_user_id, username)

    def ensure_role(self, target: RoleTarget, name: str) -> dict:
        """The role's representation, creating the role when the realm lacks it."""
        from keycloak.exceptions import KeycloakGetError
        payload = {"name": name, "description": "granted through EdLink"}
        if target.kind == "client":
            client = self._client(target)
            try:
                return self._admin.get_client_role(client, name)
            except KeycloakGetError as exc:
                if exc.response_code != 404:
                    raise KeycloakUnavailable(f"read role {name}: {exc}") from exc
            except Exception as exc:  # noqa: BLE001 - connection errors
                raise KeycloakUnavailable(f"read role {name}: {exc}") from exc
            self._call(f"create role {name}", self._admin.create_client_role, client, payload, skip_exists=True)
            return self._call(f"read role {name}", self._admin.get_client_role, client, name)
        try:
            return self._admin.get_realm_role(name)
        except KeycloakGetError as exc:
            if exc.response_code != 404:
                raise KeycloakUnavailable(f"read role {name}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001
            raise KeycloakUnavailable(f"read role {name}: {exc}") from exc
        self._call(f"create role {name}", self._admin.create_realm_role, payload, skip_exists=True)
        return self._call(f"read role {name}", self._admin.get_realm_role, name)

    def assign(self, target: RoleTarget, user_id: str, role: dict) -> None:
        if target.kind == "client":
            self._call(f"assign {role['name']}", self._admin.assign_client_role, user_id, self._client(target), [role])
        else:
            self._call(f"assign {role['name']}", self._admin.assign_realm_roles, user_id, [role])

    def remove(self, target: RoleTarget, user_id: str, role: dict) -> None:
        if target.kind == "client":
            self._call(f"remove {role['name']}", self._admin.delete_client_roles_of_user, user_id,
                       self._client(target), [role])
        else:
            self._call(f"remove {role['name']}", self._admin.delete_realm_roles_of_user, user_id, [role])

    def roles(self, target: RoleTarget) -> list[str]:
        if target.kind == "client":
            found = self._call("list client roles", self._admin.get_client_roles, self._client(target))
        else:
            found = self._call("list realm roles", self._admin.get_realm_roles)
        return [r["name"] for r in found]

    def members(self, target: RoleTarget, name: str) -> list[dict]:
        """The users holding the role directly: [{id, username}, ...]."""
        if target.kind == "client":
            found = self._call(f"members of {name}", self._admin.get_client_role_members, self._client(target), name)
        else:
            found = self._call(f"members of {name}", self._admin.get_realm_role_members, name)
        return [{"id": u["id"], "username": u.get("username", "")} for u in found]


def admin_client() -> AdminClient:
    cfg = current_app.config
    return AdminClient(
        server_url=cfg.get("KEYCLOAK_ADMIN_URL") or cfg["KEYCLOAK_URL"], realm=cfg["KEYCLOAK_REALM"],
        client_id=cfg.get("KEYCLOAK_ADMIN_CLIENT_ID") or cfg["KEYCLOAK_CLIENT_ID"],
        client_secret=cfg.get("KEYCLOAK_ADMIN_CLIENT_SECRET") or cfg["KEYCLOAK_CLIENT_SECRET"],
        timeout=int(cfg.get("KEYCLOAK_TIMEOUT_SECONDS") or 10),
        verify=cfg.get("KEYCLOAK_CA_BUNDLE") or True)


def provisioning_enabled() -> bool:
    return current_app.config.get("IDP") == "keycloak"
