"""A stand-in for the small part of Keycloak's admin REST API that EdLink's role pushes use —
users by username, clients by clientId, client roles (read, create, members) and users' client
role mappings (read, add, remove) — plus the client-credentials token endpoint its service
account signs in with. Test-only: it lives in tests/ and is never shipped. It keeps Keycloak's
URL layout (as python-keycloak 7 calls it), so EdLink's admin client runs unchanged against it.

It can be stopped and started again on the same port (Keycloak down, then back), and counts the
calls that change mappings so tests can tell "exactly once".
"""
from __future__ import annotations

import threading
import uuid

from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server

REALM = "edlink"
CLIENT_ID, CLIENT_SECRET = "edlink", "standin-secret"


class AdminStandIn:
    def __init__(self):
        self.users: dict[str, dict] = {}                  # id -> {id, username}
        self.clients: dict[str, dict] = {}                # uuid -> {id, clientId}
        self.roles: dict[str, dict[str, dict]] = {}       # client uuid -> name -> {id, name}
        self.mappings: dict[tuple[str, str], set[str]] = {}  # (user id, client uuid) -> role names
        self.changes: list[tuple[str, str, str]] = []      # (add|remove, username, role) that changed state
        self.calls: list[tuple[str, str]] = []              # (method, path) of every admin call
        self.port = None
        self._server = None
        self._thread = None
        self.app = self._build()

    # --- state, as a test sets it up and reads it ----------------------------------------------

    def add_user(self, username: str) -> str:
        uid = str(uuid.uuid4())
        self.users[uid] = {"id": uid, "username": username.lower()}
        return uid

    def add_client(self, client_id: str) -> str:
        cid = str(uuid.uuid4())
        self.clients[cid] = {"id": cid, "clientId": client_id}
        self.roles[cid] = {}
        return cid

    def _client_uuid(self, client_id: str) -> str:
        return next(c for c, v in self.clients.items() if v["clientId"] == client_id)

    def _user(self, username: str) -> str:
        return next(u for u, v in self.users.items() if v["username"] == username.lower())

    def roles_of(self, username: str, client_id: str) -> set[str]:
        return set(self.mappings.get((self._user(username), self._client_uuid(client_id)), set()))

    def map_by_hand(self, username: str, client_id: str, role: str) -> None:
        """What an administrator clicking in Keycloak's console would do."""
        cid = self._client_uuid(client_id)
        self.roles[cid].setdefault(role, {"id": str(uuid.uuid4()), "name": role})
        self.mappings.setdefault((self._user(username), cid), set()).add(role)

    # --- serving --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> AdminStandIn:
        self._server = make_server("127.0.0.1", self.port or 0, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="kc-admin-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def app_settings(self) -> dict:
        return {"IDP": "keycloak", "KEYCLOAK_URL": self.url, "KEYCLOAK_REALM": REALM,
                "KEYCLOAK_CLIENT_ID": CLIENT_ID, "KEYCLOAK_CLIENT_SECRET": CLIENT_SECRET,
                "KEYCLOAK_TIMEOUT_SECONDS": 3}

    def _build(self) -> Flask:
        app = Flask("keycloak-admin-standin")
        base = f"/admin/realms/{REALM}"

        @app.before_request
        def _auth():
            self.calls.append((request.method, request.path))
            if (request.path.startswith("/admin/")
                    and request.headers.get("Authorization") != "Bearer standin-admin-token"):
                abort(401)

        @app.post(f"/realms/{REALM}/protocol/openid-connect/token")
        def token():
            form = request.form
            if (form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID
                    or form.get("client_secret") != CLIENT_SECRET):
                return jsonify(error="unauthorized_client"), 401
            return jsonify(access_token="standin-admin-token", expires_in=300, refresh_expires_in=0,
                           token_type="Bearer", scope="profile email")

        def page(items):
            first, top = request.args.get("first", 0, type=int), request.args.get("max", 100, type=int)
            return jsonify(items[first:first + top])

        @app.get(f"{base}/users")
        def users():
            name = (request.args.get("username") or "").lower()
            found = [u for u in self.users.values() if not name or u["username"] == name]
            return page(found)

        @app.get(f"{base}/clients")
        def clients():
            wanted = request.args.get("clientId")
            return jsonify([c for c in self.clients.values() if wanted in (None, c["clientId"])])

        def client_roles(cid):
            if cid not in self.roles:
                abort(404)
            return self.roles[cid]

        @app.route(f"{base}/clients/<cid>/roles", methods=["GET", "POST"])
        def roles(cid):
            table = client_roles(cid)
            if request.method == "POST":
                name = request.get_json()["name"]
                if name in table:
                    return jsonify(errorMessage=f"Role with name {name} already exists"), 409
                table[name] = {"id": str(uuid.uuid4()), "name": name, "clientRole": True, "containerId": cid}
                return "", 201, {"Location": f"{request.url_root.rstrip('/')}{base}/clients/{cid}/roles/{name}"}
            return page(sorted(table.values(), key=lambda r: r["name"]))

        @app.get(f"{base}/clients/<cid>/roles/<name>")
        def role(cid, name):
            table = client_roles(cid)
            if name not in table:
                return jsonify(error="Could not find role"), 404
            return jsonify(table[name])

        @app.get(f"{base}/clients/<cid>/roles/<name>/users")
        def members(cid, name):
            client_roles(cid)
            held = [self.users[u] for (u, c), names in sorted(self.mappings.items()) if c == cid and name in names]
            return page(held)

        @app.route(f"{base}/users/<uid>/role-mappings/clients/<cid>", methods=["GET", "POST", "DELETE"])
        def mappings(uid, cid):
            if uid not in self.users:
                return jsonify(error="User not found"), 404
            table = client_roles(cid)
            held = self.mappings.setdefault((uid, cid), set())
            if request.method == "GET":
                return jsonify([table[n] for n in sorted(held) if n in table])
            for rep in request.get_json():
                if rep["name"] not in table or table[rep["name"]]["id"] != rep["id"]:
                    return jsonify(error="Role not found"), 404
                if request.method == "POST" and rep["name"] not in held:
                    held.add(rep["name"])
                    self.changes.append(("add", self.users[uid]["username"], rep["name"]))
                elif request.method == "DELETE" and rep["name"] in held:
                    held.discard(rep["name"])
                    self.changes.append(("remove", self.users[uid]["username"], rep["name"]))
            return "", 204

        return app
