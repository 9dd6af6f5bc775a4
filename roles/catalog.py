"""The role catalog, read from roles/catalog.toml and checked before use."""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from edlink.errors import DomainError, NotFound

SCOPE_LEVELS = ("state", "lea", "site")


class CatalogError(DomainError):
    status = 422
    code = "catalog_invalid"


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    application: str
    description: str
    scope: tuple[str, ...]
    approval: tuple[str, ...]
    implies: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()
    requires_statement: bool = False
    max_holders_per_lea: int | None = None
    max_days: int | None = None
    tas_codes: tuple[str, ...] = ()


@dataclass
class Catalog:
    applications: dict[str, dict]
    permissions: dict[str, str]
    roles: dict[str, Role]
    effective: dict[str, frozenset[str]] = field(default_factory=dict)
    # roles removed from the catalog: kept so history still shows their names
    retired: dict[str, Role] = field(default_factory=dict)
    epoch: int = 0

    def role(self, code: str) -> Role:
        try:
            return self.roles[code]
        except KeyError:
            hint = (" The catalog is empty: run `edlink catalog sync`." if not self.roles else
                    " That role was retired from the catalog." if code in self.retired else "")
            raise NotFound("unknown_role", f"No role has the code {code!r}.{hint}") from None

    def name_of(self, code: str) -> str:
        """A role's name, retired roles included (for history); the code when unknown."""
        role = self.roles.get(code) or self.retired.get(code)
        return role.name if role else code

    def roles_with(self, permission: str) -> set[str]:
        return {code for code, perms in self.effective.items() if permission in perms}

    def role_for_tas(self, tas_code: str) -> Role | None:
        for role in self.roles.values():
            if tas_code in role.tas_codes:
                return role
        return None


def role_dict(role: Role) -> dict:
    """What the database keeps of a role besides code, name and application (JSON-ready)."""
    return {"description": role.description, "scope": list(role.scope),
            "approval": list(role.approval), "implies": list(role.implies),
            "permissions": list(role.permissions), "requires_statement": role.requires_statement,
            "max_holders_per_lea": role.max_holders_per_lea, "max_days": role.max_days,
            "tas_codes": list(role.tas_codes)}


def role_from_row(code: str, name: str, application: str, d: dict) -> Role:
    return Role(code=code, name=name, application=application, description=d.get("description", ""),
                scope=tuple(d.get("scope", ())), approval=tuple(d.get("approval", ())),
                implies=tuple(d.get("implies", ())), permissions=tuple(d.get("permissions", ())),
                requires_statement=bool(d.get("requires_statement")),
                max_holders_per_lea=d.get("max_holders_per_lea"), max_days=d.get("max_days"),
                tas_codes=tuple(d.get("tas_codes", ())))


def parse(text: str) -> Catalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(message=f"catalog.toml is not valid TOML: {exc}") from exc
    problems: list[str] = []
    apps = data.get("applications", {})
    perms = data.get("permissions", {})
    for code, app in apps.items():
        push = app.get("keycloak")
        if push is None:
            continue
        if not isinstance(push, dict) or push.get("kind") not in ("client", "realm"):
            raise CatalogError(message=f"The catalog is invalid: application {code}: keycloak.kind must be "
                                       "client or realm")
        if push["kind"] == "client" and not push.get("client"):
            raise CatalogError(message=f"The catalog is invalid: application {code}: keycloak.client names "
                                       "the client whose roles carry its grants")
    roles: dict[str, Role] = {}
    tas_seen: dict[str, str] = {}
    for code, raw in data.get("roles", {}).items():
        role = Role(code=code, name=raw["name"], application=raw["application"],
                    description=" ".join(raw.get("description", "").split()),
                    scope=tuple(raw.get("scope", ())), approval=tuple(raw.get("approval", ())),
                    implies=tuple(raw.get("implies", ())), permissions=tuple(raw.get("permissions", ())),
                    requires_statement=bool(raw.get("requires_statement", False)),
                    max_holders_per_lea=raw.get("max_holders_per_lea"), max_days=raw.get("max_days"),
                    tas_codes=tuple(raw.get("tas_codes", ())))
        if role.application not in apps:
            problems.append(f"{code}: unknown application {role.application}")
        problems += [f"{code}: unknown permission {p}" for p in role.permissions if p not in perms]
        problems += [f"{code}: unknown scope level {s}" for s in role.scope if s not in SCOPE_LEVELS]
        for tas in role.tas_codes:
            if tas in tas_seen:
                problems.append(f"TAS code {tas} is mapped to both {tas_seen[tas]} and {code}")
            tas_seen[tas] = code
        roles[code] = role
    for role in roles.values():
        problems += [f"{role.code}: unknown approver role {a}" for a in role.approval if a not in roles]
        problems += [f"{role.code}: implies unknown role {r}" for r in role.implies if r not in roles]
    catalog = Catalog(apps, perms, roles)
    if not problems:
        for code in roles:
            try:
                catalog.effective[code] = frozenset(_effective(roles, code, ()))
            except CatalogError as exc:
                problems.append(exc.message)
    if problems:
        raise CatalogError(message="The catalog is invalid: " + "; ".join(sorted(set(problems))))
    return catalog


def _effective(roles: dict[str, Role], code: str, path: tuple[str, ...]) -> set[str]:
    if code in path:
        raise CatalogError(message="implication cycle: " + " -> ".join(path + (code,)))
    perms = set(roles[code].permissions)
    for implied in roles[code].implies:
        perms |= _effective(roles, implied, path + (code,))
    return perms


def packaged_text() -> str:
    return resources.files("roles").joinpath("catalog.toml").read_text("utf-8")


@functools.cache
def packaged() -> Catalog:
    """The catalog shipped in the package (what ``edlink catalog sync`` applies by default)."""
    return parse(packaged_text())


def load() -> Catalog:
    """The catalog in force: as last applied to the database by ``edlink catalog sync``.

    Each process keeps one copy and rebuilds it when the ``gate`` cache epoch moves, so a sync
    in one process reaches every other on its next request.
    """
    from roles import cache
    return cache.snapshot().catalog
