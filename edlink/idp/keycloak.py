"""EDLINK_IDP=keycloak: OpenID Connect sign-in at a Keycloak realm, and its bearer tokens.

Sign-in is the authorization-code flow with state, nonce and PKCE (S256), all three kept in the
session until the realm redirects back; the code is exchanged by python-keycloak's
KeycloakOpenID and the ID token verified (realm signature from the cached keys, iss, aud, exp,
nonce) before anyone is signed in. Users are keyed by (issuer, sub); ``preferred_username`` is the
username links match. Sign-out ends the realm's session too (RP-initiated logout).
Every failure is audited as ``user.login_failed`` with its reason and shown to the person as a
page that says what happened, never as an error 500.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets

from flask import Flask, redirect, request, session, url_for

from edlink import clock
from edlink.errors import Invalid
from edlink.idp.base import BearerUnavailable, IdentityProvider, SignInError, SignInResult
from edlink.idp.realm import CodeRejected, Realm, RealmError, RealmUnavailable, TokenInvalid
from edlink.models import User
from edlink.users import record_login, record_login_failure, sync_provider_user

PENDING = "oidc_pending"  # session key: {state: {nonce, verifier, next, at}}
PENDING_MAX = 5  # sign-ins started in other tabs that may still come back
PENDING_SECONDS = 15 * 60
log = logging.getLogger(__name__)
ID_TOKEN = "oidc_id_token"  # session key: the ID token, as the hint for sign-out at the realm

UNAVAILABLE = ("The state identity provider is not answering, so EdLink cannot sign you in "
               "right now. Please try again in a few minutes.")
BAD_STATE = ("This sign-in could not be finished: it was started in another browser, was "
             "already used, or took too long. Please sign in again.")
CODE_REJECTED = ("The identity provider did not accept this sign-in (it may have expired or "
                 "been used already). Please sign in again.")
UNVERIFIED = ("The identity provider's answer could not be verified, so you were not signed in. "
              "Please try again; if this keeps happening, tell your help desk.")
PROVIDER_ERROR = ("The identity provider could not sign you in. Please try again; if this keeps "
                  "happening, tell your help desk.")


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class KeycloakProvider(IdentityProvider):
    name = "keycloak"

    def __init__(self, app: Flask):
        super().__init__(app)
        cfg = app.config
        self.verification = cfg["KEYCLOAK_TOKEN_VERIFICATION"]
        self.scope = cfg["KEYCLOAK_SCOPE"]
        self.realm = Realm(
            server_url=cfg["KEYCLOAK_URL"], realm=cfg["KEYCLOAK_REALM"],
            client_id=cfg["KEYCLOAK_CLIENT_ID"], client_secret=cfg["KEYCLOAK_CLIENT_SECRET"],
            audience=cfg["KEYCLOAK_AUDIENCE"], cache_seconds=cfg["KEYCLOAK_JWKS_CACHE_SECONDS"],
            leeway=cfg["KEYCLOAK_LEEWAY_SECONDS"], timeout=cfg["KEYCLOAK_TIMEOUT_SECONDS"],
            verify=cfg["KEYCLOAK_CA_BUNDLE"] or True)

    # --- addresses the realm sends the browser back to (registered on the client) ----------------

    def _external(self, endpoint: str) -> str:
        return self.app.config["BASE_URL"] + url_for(endpoint)

    @property
    def redirect_uri(self) -> str:
        return self._external("edlink.login_callback")

    @property
    def post_logout_redirect_uri(self) -> str:
        return self._external("edlink.signed_out")

    # --- sign-in ---------------------------------------------------------------------------------

    def _fail(self, reason: str, message: str, status: int, detail: str = "",
              user: User | None = None) -> SignInError:
        details = {"issuer": self.realm.server_url + "realms/" + self.realm.realm_name,
                   "remote_addr": request.remote_addr}
        if detail:
            details["detail"] = detail[:500]
        record_login_failure(reason, details, user)
        return SignInError(reason, message, status)

    def begin_login(self, next_url: str):
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        try:
            url = self.realm.auth_url(redirect_uri=self.redirect_uri, scope=self.scope, state=state,
                                      nonce=nonce, code_challenge=_code_challenge(verifier))
        except RealmUnavailable as exc:
            raise self._fail("provider_unavailable", UNAVAILABLE, 503, str(exc)) from exc
        except RealmError as exc:
            raise self._fail("provider_error", PROVIDER_ERROR, 502, str(exc)) from exc
        now = clock.now().timestamp()
        pending = {k: v for k, v in (session.get(PENDING) or {}).items()
                   if now - v.get("at", 0) < PENDING_SECONDS}
        pending[state] = {"nonce": nonce, "verifier": verifier, "next": next_url, "at": now}
        session[PENDING] = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-PENDING_MAX:])
        return redirect(url)

    def _take_pending(self, state: str) -> dict | None:
        pending = dict(session.get(PENDING) or {})
        flow = pending.pop(state, None) if state else None
        if pending:
            session[PENDING] = pending
        else:
            session.pop(PENDING, None)
        if flow is None or clock.now().timestamp() - flow.get("at", 0) >= PENDING_SECONDS:
            return None
        return flow

    def finish_login(self, args) -> SignInResult:
        flow = self._take_pending(args.get("state", ""))
        if flow is None:
            raise self._fail("bad_state", BAD_STATE, 400, "no sign-in in this session has that state")
        if args.get("error"):
            error = re.sub(r"[^a-z_]", "", str(args["error"]).lower())[:60] or "error"
            description = str(args.get("error_description", ""))[:300]
            raise self._fail("provider_error", f"The identity provider did not sign you in ({error}). "
                             "Please sign in again.", 400, f"{error}: {description}".strip(": "))
        if not args.get("code"):
            raise self._fail("bad_state", BAD_STATE, 400, "the redirect carried no code")
        try:
            if args.get("iss") and args["iss"] != self.realm.issuer:  # RFC 9207: the issuer answering
                raise self._fail("provider_error", PROVIDER_ERROR, 400, f"iss {args['iss']!r} is not the realm")
            tokens = self.realm.exchange_code(code=args["code"], redirect_uri=self.redirect_uri,
                                              code_verifier=flow["verifier"])
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise self._fail("invalid_id_token", UNVERIFIED, 502, "the token answer has no ID token")
            claims = self.realm.verify_id_token(id_token, nonce=flow["nonce"])
            user = sync_provider_user(self.realm.issuer, claims)
        except CodeRejected as exc:
            raise self._fail("code_rejected", CODE_REJECTED, 400, str(exc)) from exc
        except TokenInvalid as exc:
            raise self._fail("invalid_id_token", UNVERIFIED, 502, f"{exc.reason}: {exc}") from exc
        except RealmUnavailable as exc:
            raise self._fail("provider_unavailable", UNAVAILABLE, 503, str(exc)) from exc
        except RealmError as exc:
            raise self._fail("provider_error", PROVIDER_ERROR, 502, str(exc)) from exc
        except Invalid as exc:
            raise self._fail(exc.code, exc.message, 403, str(claims.get("sub", ""))) from exc
        if user.disabled:
            raise self._fail("disabled", "This account is disabled.", 403, user=user)
        record_login(user, request.remote_addr)
        return SignInResult(user, flow["next"], {ID_TOKEN: id_token})

    # --- bearer tokens on the API ----------------------------------------------------------------

    def user_for_bearer(self, token: str) -> User | None:
        try:
            if self.verification == "introspection":
                claims = self.realm.introspect(token)
            else:
                claims = self.realm.verify_access_token(token)
            user = sync_provider_user(self.realm.issuer, claims)
        except (TokenInvalid, Invalid):
            return None
        except RealmUnavailable as exc:
            raise BearerUnavailable(str(exc)) from exc
        except RealmError as exc:  # our client refused (a wrong secret?): the token is not accepted
            log.warning("bearer token not checked: %s", exc)
            return None
        return None if user.disabled else user

    # --- sign-out --------------------------------------------------------------------------------

    def logout_url(self, user: User) -> str | None:
        try:
            return self.realm.end_session_url(id_token_hint=session.get(ID_TOKEN),
                                              post_logout_redirect_uri=self.post_logout_redirect_uri)
        except RealmError:
            return None
