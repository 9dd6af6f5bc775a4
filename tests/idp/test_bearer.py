"""Bearer access tokens from the realm on /api/v1: verified locally (signature with the cached
realm keys, iss, aud, exp) or, for opaque tokens, by introspection at the realm."""
from __future__ import annotations

import base64
import datetime as _dt
import json

import pytest
import requests

from edlink import clock
from edlink.extensions import db
from edlink.idp.realm import TokenInvalid
from edlink.users import find_provider_user
from tests.idp.conftest import events, sign_in
from tests.idp.realm import EDLINK_OPAQUE, OTHER_API, OTHER_OPAQUE, SCRIPT_CLIENT, decode_unverified, forged_token


def me(client, token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def assert_refused(resp, code: str = "invalid_token"):
    assert resp.status_code == 401, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["code"] == code
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture(scope="module")
def tokens(realm):
    """Real tokens from the realm, fetched once for the module (each costs a sign-in there)."""
    return realm.tokens("scripter")


@pytest.fixture(scope="module")
def edlink_tokens(realm):
    """The tokens EdLink's own client gets at a sign-in (its ID token is for EdLink)."""
    return realm.tokens("scripter", nonce="nonce-for-tests", as_edlink=True)


def test_an_api_call_with_the_realms_access_token(kc_app, realm, tokens):
    client = kc_app.test_client()
    resp = me(client, tokens["access_token"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["username"] == "scripter"
    # the first call made the user, keyed by subject and issuer; no session was started
    user = find_provider_user(realm.issuer, realm.user("scripter")["sub"])
    assert user is not None and [e.target_id for e in events("user.created")] == [str(user.id)]
    assert "Set-Cookie" not in resp.headers
    assert me(client, tokens["access_token"]).status_code == 200
    assert len(events("user.created")) == 1


def test_the_token_of_a_signed_in_person_names_the_same_user(kc_app, realm, browser, tokens):
    client = kc_app.test_client()
    sign_in(client, browser, "scripter")
    api = kc_app.test_client()
    assert me(api, tokens["access_token"]).get_json()["username"] == "scripter"
    assert len(events("user.created")) == 1


def test_a_token_signed_by_another_key_is_refused(kc_app, realm, tokens):
    claims = decode_unverified(tokens["access_token"])
    client = kc_app.test_client()
    assert me(client, tokens["access_token"]).status_code == 200
    # the same claims, signed by a key the realm never had: under the realm's key id, and another
    assert_refused(me(client, forged_token(claims, kid=realm.kid)))
    assert_refused(me(client, forged_token(claims, kid="some-other-key")))


def test_unsigned_and_symmetric_tokens_are_refused(kc_app, realm, tokens):
    from jwcrypto import jwk, jwt
    claims = decode_unverified(tokens["access_token"])
    client = kc_app.test_client()
    none_token = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                          for part in ({"alg": "none", "typ": "at+jwt"}, claims)) + "."
    assert_refused(me(client, none_token))
    hmac = jwt.JWT(header={"alg": "HS256", "typ": "at+jwt", "kid": realm.kid}, claims=claims)
    hmac.make_signed_token(jwk.JWK.generate(kty="oct", size=256))
    assert_refused(me(client, hmac.serialize()))
    assert_refused(me(client, "not-a-token-at-all"))


def test_a_token_for_another_audience_is_refused(kc_app, realm):
    other = realm.tokens("scripter", resource=OTHER_API)
    assert decode_unverified(other["access_token"])["aud"] == "other-app"
    assert_refused(me(kc_app.test_client(), other["access_token"]))


def test_an_id_token_is_not_an_access_token(kc_app, edlink_tokens):
    assert decode_unverified(edlink_tokens["id_token"])["aud"] == "edlink"
    client = kc_app.test_client()
    assert me(client, edlink_tokens["access_token"]).status_code == 200
    assert_refused(me(client, edlink_tokens["id_token"]))


def test_an_expired_token_is_refused(kc_app, tokens):
    exp = decode_unverified(tokens["access_token"])["exp"]
    client = kc_app.test_client()
    leeway = kc_app.config["KEYCLOAK_LEEWAY_SECONDS"]
    clock.set_now(_dt.datetime.fromtimestamp(exp + leeway - 5, _dt.UTC))
    assert me(client, tokens["access_token"]).status_code == 200
    clock.set_now(_dt.datetime.fromtimestamp(exp + leeway + 1, _dt.UTC))
    assert_refused(me(client, tokens["access_token"]))


def test_a_disabled_users_token_is_refused(kc_app, realm, tokens):
    client = kc_app.test_client()
    assert me(client, tokens["access_token"]).status_code == 200
    find_provider_user(realm.issuer, realm.user("scripter")["sub"]).disabled = True
    db.session.commit()
    assert_refused(me(client, tokens["access_token"]))


def test_the_realm_keys_are_cached(make_app, own_realm):
    app = make_app(**own_realm.app_settings())
    token = own_realm.tokens("scripter")["access_token"]
    client = app.test_client()
    assert me(client, token).status_code == 200
    own_realm.stop()  # the keys and the issuer come from the cache: no call to the realm
    assert me(client, token).status_code == 200
    # an unknown key id would fetch the key set again: with the realm down, the call cannot be
    # checked, and says so instead of calling the token invalid
    forged = forged_token(decode_unverified(token), kid="rotated-key")
    resp = me(client, forged)
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "idp_unavailable"


def test_the_id_token_nonce_and_audience_are_checked(kc_app, edlink_tokens, tokens):
    realm_client = kc_app.extensions["edlink.idp"].realm
    claims = realm_client.verify_id_token(edlink_tokens["id_token"], nonce="nonce-for-tests")
    assert claims["preferred_username"] == "scripter"
    with pytest.raises(TokenInvalid):
        realm_client.verify_id_token(edlink_tokens["id_token"], nonce="another-nonce")
    with pytest.raises(TokenInvalid):  # an access token is not an ID token (no nonce)
        realm_client.verify_id_token(edlink_tokens["access_token"], nonce="nonce-for-tests")
    with pytest.raises(TokenInvalid):  # an ID token issued to another client
        realm_client.verify_id_token(tokens["id_token"], nonce=decode_unverified(tokens["id_token"])["nonce"])


# --- introspection (EDLINK_KEYCLOAK_TOKEN_VERIFICATION=introspection) ---------------------------

@pytest.fixture
def introspecting(make_app, realm):
    return make_app(**realm.app_settings(KEYCLOAK_TOKEN_VERIFICATION="introspection"))


def test_an_opaque_token_is_checked_by_introspection(introspecting, realm):
    opaque = realm.tokens("scripter", resource=EDLINK_OPAQUE)["access_token"]
    assert opaque.count(".") == 0  # not a JWT
    client = introspecting.test_client()
    resp = me(client, opaque)
    assert resp.status_code == 200 and resp.get_json()["username"] == "scripter"
    assert_refused(me(client, "an-unknown-opaque-token"))


def test_introspection_refuses_another_audience_and_expiry(introspecting, realm):
    client = introspecting.test_client()
    other = realm.tokens("scripter", resource=OTHER_OPAQUE)["access_token"]
    assert_refused(me(client, other))
    mine = realm.tokens("scripter", resource=EDLINK_OPAQUE)["access_token"]
    assert me(client, mine).status_code == 200
    clock.set_now(clock.now() + _dt.timedelta(seconds=realm.access_token_ttl + 120))
    assert_refused(me(client, mine))


def test_a_revoked_token_is_refused_by_introspection(introspecting, realm):
    client = introspecting.test_client()
    mine = realm.tokens("scripter", resource=EDLINK_OPAQUE)["access_token"]
    assert me(client, mine).status_code == 200
    revoked = requests.post(f"{realm.issuer}/protocol/openid-connect/revoke", timeout=10,
                            data={"token": mine, "client_id": SCRIPT_CLIENT})
    assert revoked.status_code == 200
    assert_refused(me(client, mine))


def test_introspection_with_the_realm_down_answers_503(make_app, own_realm):
    app = make_app(**own_realm.app_settings(KEYCLOAK_TOKEN_VERIFICATION="introspection"))
    opaque = own_realm.tokens("scripter", resource=EDLINK_OPAQUE)["access_token"]
    client = app.test_client()
    assert me(client, opaque).status_code == 200
    own_realm.stop()
    resp = me(client, opaque)
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "idp_unavailable"
    assert resp.headers["Retry-After"] == "30"
