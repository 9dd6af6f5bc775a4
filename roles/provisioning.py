"""Approved access pushed into Keycloak, retried until done, and reconciled with EdLink as the truth.

With ``EDLINK_IDP=keycloak``, an application whose catalog entry says ``keycloak = {kind, client}``
has each grant of its roles carried to Keycloak as the role ``<role code>@<org code>`` (a client
role of that client, or a realm role), mapped to the grant's user:

- every change of a grant (created, suspended, restored, revoked, expired) writes a
  ProvisioningTask in the grant's own transaction (:func:`enqueue`);
- the ``provisioning.push`` job carries the tasks out: it looks at the grant's (user, role, org)
  as it stands *then* — some active grant in its window → the mapping must exist, otherwise it
  must not — and makes Keycloak agree. Assigning a mapping that exists or removing one that does
  not changes nothing, so a task done twice (a crash between Keycloak's answer and our commit)
  doubles nothing. Keycloak down, or the person without a Keycloak account yet: the task waits
  (exponential backoff up to EDLINK_PROVISIONING_RETRY_MAX_SECONDS) and nothing is lost;
- the ``provisioning.reconcile`` job compares, for every pushed application, every mapping of
  EdLink-named roles in Keycloak with EdLink's grants and corrects Keycloak — removes what
  EdLink did not grant (a role added by hand is removed and reported, never imported) and adds
  what is missing — recording each correction as a ``provisioning.corrected`` audit event.
"""
from __future__ import annotations

import datetime as _dt

from flask import current_app
from sqlalchemy import or_

import audit
from edlink import clock
from edlink.extensions import db
from edlink.idp.keycloak_admin import AdminClient, KeycloakUnavailable, RoleTarget, admin_client, provisioning_enabled
from edlink.models import Org, User
from roles.catalog import load
from roles.models import Grant, ProvisioningTask


def target_for(application: str) -> RoleTarget | None:
    push = (load().applications.get(application) or {}).get("keycloak")
    if not push:
        return None
    return RoleTarget(kind=push["kind"], client=push.get("client"))


def role_name(role_code: str, org_code: str) -> str:
    return f"{role_code}@{org_code}"


def enqueue(grant: Grant, reason: str) -> ProvisioningTask | None:
    """Note, in the grant's transaction, that Keycloak must follow this grant (when it is pushed)."""
    if not provisioning_enabled():
        return None
    catalog = load()
    role = catalog.roles.get(grant.role_code) or catalog.retired.get(grant.role_code)
    if role is None or target_for(role.application) is None:
        return None
    org = grant.org or db.session.get(Org, grant.org_id)
    task = ProvisioningTask(grant_id=grant.id, user_id=grant.user_id, role_code=grant.role_code, org_id=grant.org_id,
                            application=role.application, keycloak_role=role_name(grant.role_code, org.code),
                            reason=reason, status="pending", attempts=0, next_attempt_at=clock.now(),
                            created_at=clock.now())
    db.session.add(task)
    return task


def pending_for(grant: Grant) -> ProvisioningTask | None:
    """The oldest task still waiting for this grant's (user, role, org): "pending in Keycloak"."""
    return db.session.execute(db.select(ProvisioningTask).where(
        ProvisioningTask.user_id == grant.user_id, ProvisioningTask.role_code == grant.role_code,
        ProvisioningTask.org_id == grant.org_id, ProvisioningTask.status == "pending")
        .order_by(ProvisioningTask.id)).scalars().first()


def _wanted(user_id: int, role_code: str, org_id: int, now: _dt.datetime) -> bool:
    return db.session.execute(db.select(Grant.id).where(
        Grant.user_id == user_id, Grant.role_code == role_code, Grant.org_id == org_id, Grant.status == "active",
        Grant.starts_at <= now, or_(Grant.ends_at.is_(None), Grant.ends_at > now)).limit(1)).first() is not None


def _keycloak_user(client: AdminClient, user: User) -> str | None:
    """The user's id in the realm: their subject when they signed in there, else by username."""
    realm_issuer = f"{current_app.config['KEYCLOAK_URL'].rstrip('/')}/realms/{current_app.config['KEYCLOAK_REALM']}"
    if user.issuer.rstrip("/") == realm_issuer:
        return user.subject
    return client.user_id(user.username)


def _backoff(attempts: int) -> _dt.timedelta:
    cfg = current_app.config
    base, top = int(cfg["PROVISIONING_RETRY_BASE_SECONDS"]), int(cfg["PROVISIONING_RETRY_MAX_SECONDS"])
    return _dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), top))


def push(now: _dt.datetime | None = None, *, client: AdminClient | None = None) -> dict:
    """The ``provisioning.push`` job: carry out the due tasks, oldest first (idempotent)."""
    if not provisioning_enabled():
        return {"skipped": "EDLINK_IDP is not keycloak"}
    now = now or clock.now()
    batch = int(current_app.config["PROVISIONING_BATCH_SIZE"])
    due = db.session.execute(db.select(ProvisioningTask).where(
        ProvisioningTask.status == "pending", ProvisioningTask.next_attempt_at <= now)
        .order_by(ProvisioningTask.id).limit(batch).with_for_update(skip_locked=True)).scalars().all()
    counts = {"assigned": 0, "removed": 0, "waiting": 0}
    if not due:
        return counts
    keys: dict[tuple[int, str, int], list[ProvisioningTask]] = {}
    for task in due:
        keys.setdefault((task.user_id, task.role_code, task.org_id), []).append(task)
    try:
        client = client or admin_client()
    except KeycloakUnavailable as exc:
        for task in due:
            _wait(task, now, str(exc))
        counts["waiting"] = len(due)
        return counts
    for (user_id, role_code, org_id), tasks in keys.items():
        # every pending task of this key, also those not yet due, is settled by one push
        tasks = db.session.execute(db.select(ProvisioningTask).where(
            ProvisioningTask.user_id == user_id, ProvisioningTask.role_code == role_code,
            ProvisioningTask.org_id == org_id, ProvisioningTask.status == "pending")).scalars().all()
        last = tasks[-1]
        target = target_for(last.application)
        try:
            if target is None:
                raise KeycloakUnavailable(f"the application {last.application} is no longer pushed to Keycloak")
            kc_user = _keycloak_user(client, db.session.get(User, user_id))
            if kc_user is None:
                raise KeycloakUnavailable("the person has no Keycloak account yet")
            role = client.ensure_role(target, last.keycloak_role)
            if _wanted(user_id, role_code, org_id, now):
                client.assign(target, kc_user, role)
                outcome = "assigned"
            else:
                client.remove(target, kc_user, role)
                outcome = "removed"
        except KeycloakUnavailable as exc:
            for task in tasks:
                _wait(task, now, str(exc))
            counts["waiting"] += 1
            continue
        for task in tasks:
            task.status, task.outcome, task.done_at, task.last_error = "done", outcome, now, None
        counts[outcome] += 1
    db.session.flush()
    return counts


def _wait(task: ProvisioningTask, now: _dt.datetime, error: str) -> None:
    task.attempts += 1
    task.last_error = error[:2000]
    task.next_attempt_at = now + _backoff(task.attempts)


def reconcile(now: _dt.datetime | None = None, *, client: AdminClient | None = None) -> dict:
    """The ``provisioning.reconcile`` job: make Keycloak's mappings of EdLink's roles equal
    EdLink's grants, for every pushed application; each correction is audited."""
    if not provisioning_enabled():
        return {"skipped": "EDLINK_IDP is not keycloak"}
    now = now or clock.now()
    client = client or admin_client()
    catalog = load()
    counts = {"added": 0, "removed": 0, "unknown_users": 0}
    for application in sorted(catalog.applications):
        target = target_for(application)
        if target is None:
            continue
        codes = {c for c, r in {**catalog.roles, **catalog.retired}.items() if r.application == application}
        want: dict[str, set[str]] = {}
        rows = db.session.execute(db.select(Grant.role_code, Org.code, User.username).join(Org, Org.id == Grant.org_id)
                                  .join(User, User.id == Grant.user_id).where(
            Grant.role_code.in_(codes), Grant.status == "active", Grant.starts_at <= now,
            or_(Grant.ends_at.is_(None), Grant.ends_at > now))).all()
        for role_code, org_code, username in rows:
            want.setdefault(role_name(role_code, org_code), set()).add(username.lower())
        ours = [n for n in client.roles(target) if n.split("@", 1)[0] in codes]
        for name in sorted(set(ours) | set(want)):
            role = client.ensure_role(target, name)
            have = {m["username"].lower(): m["id"] for m in client.members(target, name)} if name in ours else {}
            for username, kc_id in sorted(have.items()):
                if username not in want.get(name, set()):
                    client.remove(target, kc_id, role)
                    counts["removed"] += 1
                    audit.record("provisioning.corrected", "system:provisioning.reconcile", ("keycloak_role", name),
                                 name.split("@", 1)[1] if "@" in name else None,
                                 {"application": application, "role": name, "username": username, "change": "removed",
                                  "why": "mapped in Keycloak but not granted in EdLink"})
            for username in sorted(want.get(name, set()) - set(have)):
                user = db.session.execute(
                    db.select(User).where(db.func.lower(User.username) == username)).scalars().first()
                kc_id = _keycloak_user(client, user) if user is not None else None
                if kc_id is None:
                    counts["unknown_users"] += 1  # the push keeps trying for them
                    continue
                client.assign(target, kc_id, role)
                counts["added"] += 1
                audit.record("provisioning.corrected", "system:provisioning.reconcile", ("keycloak_role", name),
                             name.split("@", 1)[1] if "@" in name else None,
                             {"application": application, "role": name, "username": username, "change": "added",
                              "why": "granted in EdLink but missing in Keycloak"})
    return counts
