"""One Keycloak realm, through python-keycloak's KeycloakOpenID: the discovery document and the
realm's signing keys (both cached), the authorization-code exchange, and the checks on ID tokens
and bearer access tokens (signature with the cached keys, then iss, aud, exp and, for ID tokens,
the nonce; or introspection at the realm for opaque tokens).

Token times are checked against ``edlink.clock``, so tests can move time; cache ages use the
monotonic clock.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

from edlink import clock

#: Signature algorithms a realm signs with; anything else (HS256 with a public key, none) is refused
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
#: The shortest time between two key-set fetches caused by an unknown key id
KEY_REFRESH_SECONDS = 10


class RealmError(Exception):
    """The realm answered, but not as it should (a refusal of our client, a broken document)."""


class RealmUnavailable(RealmError):
    """The realm did not answer, or answered with a server error, when it was needed."""


class CodeRejected(Exception):
    """The token endpoint refused the authorization code (expired, used, or not ours)."""


class TokenInvalid(Exception):
    """A token failed a check; ``reason`` is a short stable code, the message says more."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


def _b64json(segment: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def jwt_header(token: str) -> dict[str, Any] | None:
    """The protected header of a compact JWS, or None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return _b64json(parts[0])
    except (ValueError, UnicodeDecodeError):
        return None


class Realm:
    def __init__(self, *, server_url: str, realm: str, client_id: str, client_secret: str,
                 audience: str, cache_seconds: int, leeway: int, timeout: int, verify: bool | str = True):
        self.server_url, self.realm_name = server_url, realm
        self.client_id, self.client_secret, self.audience = client_id, client_secret, audience
        self.cache_seconds, self.leeway, self.timeout, self.verify = cache_seconds, leeway, timeout, verify
        self._local = threading.local()
        self._lock = threading.Lock()
        self._discovery: tuple[dict | None, float] = (None, 0.0)
        self._keys: tuple[Any, float] = (None, 0.0)
        self._forced_refresh_at = float("-inf")

    # --- python-keycloak -------------------------------------------------------------------------

    @property
    def openid(self):
        """This thread's KeycloakOpenID: it edits its session's headers around some calls, so
        threads of one server must not share one."""
        client = getattr(self._local, "openid", None)
        if client is None:
            from keycloak import KeycloakOpenID
            client = KeycloakOpenID(server_url=self.server_url, realm_name=self.realm_name,
                                    client_id=self.client_id, client_secret_key=self.client_secret,
                                    timeout=self.timeout, verify=self.verify)
            self._local.openid = client
        return client

    def _call(self, what: str, fn, *args, **kwargs):
        from keycloak.exceptions import KeycloakConnectionError, KeycloakError
        try:
            return fn(*args, **kwargs)
        except KeycloakConnectionError as exc:
            raise RealmUnavailable(f"{what}: the realm at {self.server_url} does not answer") from exc
        except KeycloakError as exc:
            error = RealmUnavailable if (exc.response_code or 500) >= 500 else RealmError
            raise error(f"{what}: the realm answered {str(exc)[:300]}") from exc
        except (ValueError, TypeError, KeyError) as exc:  # not JSON, or not the shape expected
            raise RealmError(f"{what}: the realm's answer is not usable ({exc})") from exc

    # --- discovery and keys (cached) -------------------------------------------------------------

    def _fresh(self, fetched_at: float) -> bool:
        return time.monotonic() - fetched_at < self.cache_seconds

    def discovery(self) -> dict:
        document, fetched_at = self._discovery
        if document is None or not self._fresh(fetched_at):
            document = self._call("discovery", self.openid.well_known)
            if not isinstance(document.get("issuer"), str):
                raise RealmError("discovery: the document names no issuer")
            self._discovery = (document, time.monotonic())
        return document

    @property
    def issuer(self) -> str:
        return self.discovery()["issuer"]

    def keys(self, kid: str | None = None):
        """The realm's public keys as a jwcrypto JWKSet. A key id not in the cached set fetches
        the set again (a rotated key), at most once every KEY_REFRESH_SECONDS."""
        from jwcrypto import jwk
        keyset, fetched_at = self._keys
        stale = keyset is None or not self._fresh(fetched_at)
        unknown = (kid is not None and keyset is not None and not keyset.get_keys(kid)
                   and time.monotonic() - self._forced_refresh_at >= KEY_REFRESH_SECONDS)
        if stale or unknown:
            with self._lock:
                if unknown:
                    self._forced_refresh_at = time.monotonic()
                certs = self._call("keys", self.openid.certs)
                fresh = jwk.JWKSet()
                for key in certs.get("keys", []):
                    if key.get("use", "sig") == "sig":
                        try:
                            fresh.add(jwk.JWK(**key))
                        except Exception:  # noqa: BLE001  (a key type we cannot use: skip it)
                            continue
                keyset = fresh
                self._keys = (keyset, time.monotonic())
        return keyset

    # --- the authorization-code flow -------------------------------------------------------------

    def auth_url(self, *, redirect_uri: str, scope: str, state: str, nonce: str, code_challenge: str) -> str:
        # python-keycloak puts the values into the query as given: encode them first
        return self._call("authorization", self.openid.auth_url,
                          redirect_uri=quote(redirect_uri, safe=""), scope=quote(scope, safe=""),
                          state=quote(state, safe=""), nonce=quote(nonce, safe=""),
                          code_challenge=code_challenge, code_challenge_method="S256")

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict:
        from keycloak.exceptions import KeycloakPostError
        try:
            return self.openid.token(grant_type="authorization_code", code=code,
                                     redirect_uri=redirect_uri, code_verifier=code_verifier)
        except KeycloakPostError as exc:
            if exc.response_code == 400 and b"invalid_grant" in (exc.response_body or b""):
                raise CodeRejected(str(exc)[:300]) from exc
            return self._call("token", self._reraise, exc)
        except Exception as exc:  # noqa: BLE001  (connection errors and odd answers)
            return self._call("token", self._reraise, exc)

    @staticmethod
    def _reraise(exc: Exception):
        raise exc

    def end_session_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        endpoint = self.discovery().get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    # --- token checks ----------------------------------------------------------------------------

    def _decode(self, token: str, check_claims: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) of a JWT the realm signed whose claims pass ``check_claims``."""
        header = jwt_header(token)
        if header is None:
            raise TokenInvalid("malformed", "not a signed JWT")
        if header.get("alg") not in ALGORITHMS:
            raise TokenInvalid("bad_algorithm", f"alg {header.get('alg')!r} is not accepted")
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        keyset = self.keys(kid)
        if kid is not None and not keyset.get_keys(kid):
            raise TokenInvalid("unknown_key", f"the realm has no key {kid!r}")
        from jwcrypto.common import JWException
        from jwcrypto.jwt import JWTExpired
        try:
            claims = self.openid.decode_token(token, key=keyset, check_claims=check_claims,
                                              algs=ALGORITHMS)
        except JWTExpired as exc:
            raise TokenInvalid("expired", str(exc)) from exc
        except (JWException, ValueError, TypeError, KeyError) as exc:
            raise TokenInvalid("rejected", str(exc)[:300]) from exc
        if not isinstance(claims, dict):
            raise TokenInvalid("malformed", "the claims are not a JSON object")
        return header, claims

    def _time_claims(self) -> dict[str, Any]:
        # exp must lie after now (less the allowed skew); iat and sub must be there
        return {"exp": int(clock.now().timestamp()) - self.leeway, "iat": None, "sub": None}

    def verify_id_token(self, token: str, *, nonce: str) -> dict[str, Any]:
        _, claims = self._decode(token, {"iss": self.issuer, "aud": self.client_id, "nonce": nonce,
                                         **self._time_claims()})
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise TokenInvalid("rejected", "several audiences and azp is not this client")
        if int(claims["iat"]) > clock.now().timestamp() + self.leeway:
            raise TokenInvalid("rejected", "issued in the future")
        return claims

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """A JWT access token: the realm's signature, iss, aud (EDLINK_KEYCLOAK_AUDIENCE), exp.
        An ID token is not an access token: the header says at+jwt (RFC 9068) or the claims
        say typ Bearer (Keycloak)."""
        header, claims = self._decode(token, {"iss": self.issuer, "aud": self.audience,
                                              **self._time_claims()})
        typ = str(header.get("typ", "")).lower()
        if typ not in ("at+jwt", "application/at+jwt") and claims.get("typ") != "Bearer":
            raise TokenInvalid("not_an_access_token", "the token is not an access token")
        return claims

    def introspect(self, token: str) -> dict[str, Any]:
        """Ask the realm (RFC 7662) about any access token, opaque or JWT; then check iss, aud, exp."""
        from keycloak.exceptions import KeycloakPostError
        try:
            answer = self.openid.introspect(token)
        except KeycloakPostError as exc:
            if exc.response_code == 400:  # a token the endpoint does not take
                raise TokenInvalid("rejected", str(exc)[:300]) from exc
            return self._call("introspection", self._reraise, exc)
        except Exception as exc:  # noqa: BLE001
            return self._call("introspection", self._reraise, exc)
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise TokenInvalid("inactive", "the realm says the token is not active")
        if answer.get("iss") != self.issuer:
            raise TokenInvalid("rejected", "another issuer")
        audiences = answer.get("aud") or []
        if self.audience not in (audiences if isinstance(audiences, list) else [audiences]):
            raise TokenInvalid("rejected", "another audience")
        exp = answer.get("exp")
        if not isinstance(exp, int) or exp < clock.now().timestamp() - self.leeway:
            raise TokenInvalid("expired", "the token has expired")
        if not answer.get("sub"):
            raise TokenInvalid("rejected", "no subject")
        return answer
