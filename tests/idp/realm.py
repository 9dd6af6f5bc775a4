"""The loopback stand-in for a Keycloak realm (tests/idp/oidc_server: panva's oidc-provider under
Node), and a person's browser at it.

``RealmServer`` starts ``node server.mjs`` with a realm, clients and users of our choosing and
stops it again (the "provider down" tests stop it mid-flow). ``RealmBrowser`` is the person at
the realm's pages: a requests session that follows the realm's redirects, fills its sign-in
form, and hands back the first address outside the realm (EdLink's callback).
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import re
import secrets
import select
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
import requests
from jwcrypto import jwk

SERVER_DIR = Path(__file__).parent / "oidc_server"
REALM = "edlink"
CLIENT_ID, CLIENT_SECRET = "edlink", "edlink-test-client-secret"
SCRIPT_CLIENT = "edlink-scripts"  # a public client, as scripts and command-line tools use
SCRIPT_REDIRECT = "http://127.0.0.1/script-callback"
BASE_URL = "http://127.0.0.1:5000"  # EdLink's address for the realm (loopback: any port is allowed)
PASSWORD = "realm-pass-2026"
EDLINK_API = "urn:edlink:api"  # the default resource: JWT access tokens with aud = edlink
EDLINK_OPAQUE = "urn:edlink:opaque"  # opaque access tokens for EdLink (introspection)
OTHER_API = "urn:other:api"  # another application's tokens: aud = other-app
OTHER_OPAQUE = "urn:other:opaque"

USERS = [
    {"sub": "5d1f7c3e-0000-4000-8000-000000000001", "username": "newstaff", "password": PASSWORD,
     "email": "newstaff@example.test", "given_name": "Test", "family_name": "Newstaff"},
    {"sub": "5d1f7c3e-0000-4000-8000-000000000002", "username": "teacher", "password": PASSWORD,
     "email": "teacher@example.test"},
    {"sub": "5d1f7c3e-0000-4000-8000-000000000003", "username": "scripter", "password": PASSWORD},
]


def ensure_installed() -> None:
    """oidc-provider in tests/idp/oidc_server/node_modules (``make test`` installs it; a bare
    pytest run installs it here, once, under a lock that parallel workers share)."""
    marker = SERVER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if marker.exists():
        return
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("the identity-provider tests need Node.js and npm (make test installs them)")
    tag = hashlib.sha1(str(SERVER_DIR).encode()).hexdigest()[:10]
    lock_path = Path(tempfile.gettempdir()) / f"edlink-oidc-npm-{tag}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=SERVER_DIR, check=True, timeout=300)


def new_signing_key() -> dict:
    key = jwk.JWK.generate(kty="RSA", size=2048, kid=secrets.token_hex(8), use="sig", alg="RS256")
    return json.loads(key.export_private())


class RealmServer:
    """One realm on loopback. ``start()`` again after ``stop()`` keeps the port, the signing key
    and so the issuer: the same realm coming back."""

    def __init__(self, workdir: Path, *, users=None, access_token_ttl: int = 300):
        self.workdir = Path(workdir)
        self.users = [dict(u) for u in (users or USERS)]
        self.access_token_ttl = access_token_ttl
        self.key = new_signing_key()
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.issuer = ""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_url(self) -> str:
        return self.origin + "/"

    @property
    def kid(self) -> str:
        return self.key["kid"]

    def user(self, username: str) -> dict:
        return next(u for u in self.users if u["username"] == username)

    def _config(self) -> dict:
        return {
            "realm": REALM, "host": "127.0.0.1", "port": self.port, "jwk": self.key,
            "access_token_ttl": self.access_token_ttl, "users": self.users,
            "clients": [
                {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "application_type": "native",
                 "redirect_uris": ["http://127.0.0.1/login/callback"],
                 "post_logout_redirect_uris": ["http://127.0.0.1/signed-out"],
                 "token_endpoint_auth_method": "client_secret_post",
                 "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]},
                {"client_id": SCRIPT_CLIENT, "application_type": "native", "redirect_uris": [SCRIPT_REDIRECT],
                 "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
                 "response_types": ["code"]},
            ],
            "resources": {
                EDLINK_API: {"audience": CLIENT_ID, "format": "jwt"},
                EDLINK_OPAQUE: {"audience": CLIENT_ID, "format": "opaque"},
                OTHER_API: {"audience": "other-app", "format": "jwt"},
                OTHER_OPAQUE: {"audience": "other-app", "format": "opaque"},
            },
            "default_resource": EDLINK_API,
        }

    def start(self) -> RealmServer:
        ensure_installed()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "realm.json"
        config.write_text(json.dumps(self._config()))
        log = open(self.workdir / "realm.log", "ab")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(["node", str(SERVER_DIR / "server.mjs"), str(config)],
                                     stdout=subprocess.PIPE, stderr=log, cwd=SERVER_DIR)
        self._log = log
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            pytest.fail(f"the realm stand-in did not start; see {self.workdir / 'realm.log'}")
        info = json.loads(line)
        self.port, self.issuer = info["port"], info["issuer"]
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
            self._log.close()

    def app_settings(self, **overrides) -> dict:
        """EdLink's configuration for this realm."""
        return {"IDP": "keycloak", "KEYCLOAK_URL": self.server_url, "KEYCLOAK_REALM": REALM,
                "KEYCLOAK_CLIENT_ID": CLIENT_ID, "KEYCLOAK_CLIENT_SECRET": CLIENT_SECRET,
                "BASE_URL": BASE_URL, **overrides}

    def keycloak_openid(self, client_id: str = SCRIPT_CLIENT, secret: str | None = None):
        from keycloak import KeycloakOpenID
        return KeycloakOpenID(server_url=self.server_url, realm_name=REALM, client_id=client_id,
                              client_secret_key=secret, timeout=10)

    def tokens(self, username: str, *, resource: str | None = None, nonce: str = "",
               as_edlink: bool = False) -> dict:
        """Tokens for ``username`` as a script gets them: the authorization-code flow with PKCE
        through the realm's sign-in page, as a public client (optionally for a resource); or, with
        ``as_edlink``, as EdLink's own client gets them at sign-in."""
        if as_edlink:
            openid, redirect = self.keycloak_openid(CLIENT_ID, CLIENT_SECRET), f"{BASE_URL}/login/callback"
        else:
            openid, redirect = self.keycloak_openid(), SCRIPT_REDIRECT
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        url = openid.auth_url(redirect_uri=quote(redirect, safe=""), scope="openid%20profile",
                              state=secrets.token_urlsafe(16), nonce=nonce or secrets.token_urlsafe(16),
                              code_challenge=challenge, code_challenge_method="S256")
        if resource:
            url += "&resource=" + quote(resource, safe="")
        with RealmBrowser(self) as browser:
            back = browser.visit(url, username=username, password=self.user(username)["password"])
        code = parse_qs(urlsplit(back).query)["code"][0]
        extra = {"resource": resource} if resource else {}
        try:
            return openid.token(grant_type="authorization_code", code=code, redirect_uri=redirect,
                                code_verifier=verifier, **extra)
        finally:
            openid.connection._s.close()


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"id": attrs.get("id"), "action": attrs.get("action"), "inputs": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = attrs.get("value") or ""


class RealmBrowser(contextlib.AbstractContextManager):
    """A person's browser at the realm, with the realm's cookies (its single sign-on session)."""

    def __init__(self, realm: RealmServer):
        self.realm = realm
        self.http = requests.Session()
        self.last_page = ""

    def __exit__(self, *exc):
        self.http.close()

    def visit(self, url: str, *, username: str | None = None, password: str | None = None) -> str:
        """Follow ``url`` through the realm; returns the address it sends the browser back to.
        Raises LookupError when the realm asks for a sign-in and no credentials were given."""
        response = self.http.get(url, allow_redirects=False, timeout=10)
        for _ in range(20):
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                if not target.startswith(self.realm.origin + "/"):
                    return target
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            self.last_page = response.text
            parser = _Forms()
            parser.feed(response.text)
            forms = {f["id"]: f for f in parser.forms}
            if response.status_code == 200 and "kc-form-login" in forms:
                if username is None:
                    raise LookupError("the realm asks for a sign-in")
                form = forms["kc-form-login"]
                response = self.http.post(urljoin(response.url, form["action"]), allow_redirects=False,
                                          data={"username": username, "password": password}, timeout=10)
                username = None  # one attempt: a refused password shows the form again
                continue
            if response.status_code == 200 and "op.logoutForm" in forms:
                form = forms["op.logoutForm"]
                response = self.http.post(urljoin(response.url, form["action"]), data=form["inputs"],
                                          allow_redirects=False, timeout=10)
                continue
            raise AssertionError(f"unexpected page at the realm ({response.status_code}): "
                                 f"{re.sub(r'<[^>]+>', ' ', response.text)[:400]}")
        raise AssertionError("the realm redirected too many times")


def forged_token(claims: dict, *, kid: str, header: dict | None = None) -> str:
    """A JWT with ``claims`` signed by a key the realm never had."""
    from jwcrypto import jwt
    key = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    token = jwt.JWT(header={"alg": "RS256", "typ": "at+jwt", "kid": kid, **(header or {})}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def decode_unverified(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

