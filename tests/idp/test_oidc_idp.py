"""The OIDC IdP that the federation tests rely on really is one: it publishes its discovery
document and keys over HTTPS, issues ID tokens that verify with those keys and carry the
accounts' claims, rotates keys under new kids, and reports the fingerprint of the certificate it
actually serves. If these fail, a federation test failing says nothing about our code."""

from __future__ import annotations

import hashlib
import re
import socket
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

ROLE_ARN = "acs:ram::1234567890123456:role/oidc-reader"
CALLBACK = "http://127.0.0.1:8321/sso/oidc/callback"


@pytest.fixture(scope="module")
def claims_idp(oidc_idp_factory):  # type: ignore[no-untyped-def]
    """An IdP whose alice carries a custom claim, and whose client returns to a loopback HTTP
    callback, as the console's live server will have."""
    idp = oidc_idp_factory(
        clients={"ram-console": {"redirect_uris": [CALLBACK]}},
        accounts={"alice": {"email": "alice@idp.example", "ram_role": ROLE_ARN}},
    )
    yield idp
    idp.stop()


def verified_claims(idp, token: str, algorithm: str) -> dict:  # type: ignore[no-untyped-def]
    keys = KeySet.import_key_set(idp.jwks())
    decoded = jwt.decode(token, keys, algorithms=[algorithm])
    assert decoded.header["alg"] == algorithm
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer}, exp={"essential": True}
    ).validate(decoded.claims)
    return decoded.claims


def test_discovery_document_names_the_issuer_and_its_endpoints(oidc_idp) -> None:  # type: ignore[no-untyped-def]
    document = oidc_idp.discovery()

    assert oidc_idp.issuer.startswith("https://127.0.0.1:")
    assert document["issuer"] == oidc_idp.issuer
    assert document["jwks_uri"] == oidc_idp.issuer + "/jwks"
    assert document["authorization_endpoint"].startswith(oidc_idp.issuer + "/")
    assert document["token_endpoint"].startswith(oidc_idp.issuer + "/")
    assert {"RS256", "ES256"} <= set(document["id_token_signing_alg_values_supported"])
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert oidc_idp.client_ids == ["ram-console", "ram-console-es256"]


def test_id_token_verifies_with_the_served_jwks_and_carries_the_custom_claim(claims_idp) -> None:  # type: ignore[no-untyped-def]
    token = claims_idp.id_token("alice", client_id="ram-console", nonce="nonce-123")

    claims = verified_claims(claims_idp, token, "RS256")
    assert claims["sub"] == "alice"
    assert claims["aud"] == "ram-console"
    assert claims["iss"] == claims_idp.issuer
    assert claims["nonce"] == "nonce-123"
    assert claims["email"] == "alice@idp.example"
    assert claims["ram_role"] == ROLE_ARN
    assert claims["iat"] <= time.time() + 5 < claims["exp"]


def test_any_login_signs_in_and_an_unknown_one_has_only_its_sub(claims_idp) -> None:  # type: ignore[no-untyped-def]
    claims = verified_claims(claims_idp, claims_idp.id_token("mallory"), "RS256")

    assert claims["sub"] == "mallory"
    assert "email" not in claims
    assert "ram_role" not in claims
    assert "nonce" not in claims


def test_an_unregistered_redirect_uri_is_refused(claims_idp) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="redirect_uri"):
        claims_idp.id_token("alice", redirect_uri="http://127.0.0.1:9/elsewhere")


def test_es256_client_gets_an_es256_token_signed_by_the_ec_key(oidc_idp) -> None:  # type: ignore[no-untyped-def]
    token = oidc_idp.id_token("alice", client_id="ram-console-es256")

    claims = verified_claims(oidc_idp, token, "ES256")
    assert claims["sub"] == "alice"
    assert claims["aud"] == "ram-console-es256"
    assert claims["email"] == "alice@idp.example"
    kid = jwt.decode(token, KeySet.import_key_set(oidc_idp.jwks())).header["kid"]
    ec_kids = [key["kid"] for key in oidc_idp.jwks()["keys"] if key["kty"] == "EC"]
    assert ec_kids == [kid]


def test_rotate_keys_serves_new_kids_on_the_same_issuer(oidc_idp_factory) -> None:  # type: ignore[no-untyped-def]
    with oidc_idp_factory() as idp:
        issuer, fingerprint = idp.issuer, idp.fingerprint
        cached = KeySet.import_key_set(idp.jwks())
        old_kids = {key["kid"] for key in idp.jwks()["keys"]}

        idp.rotate_keys()

        assert (idp.issuer, idp.fingerprint) == (issuer, fingerprint)
        assert idp.discovery()["issuer"] == issuer
        new_kids = {key["kid"] for key in idp.jwks()["keys"]}
        assert len(new_kids) == 2
        assert new_kids.isdisjoint(old_kids)
        token = idp.id_token("alice")
        assert verified_claims(idp, token, "RS256")["sub"] == "alice"
        with pytest.raises(InvalidKeyIdError):
            jwt.decode(token, cached, algorithms=["RS256"])


def test_set_accounts_changes_the_claims_of_the_next_token(oidc_idp_factory) -> None:  # type: ignore[no-untyped-def]
    with oidc_idp_factory(accounts={"alice": {"email": "alice@idp.example"}}) as idp:
        idp.set_accounts({"alice": {"email": "alice@elsewhere.example", "ram_role": ROLE_ARN}})

        claims = verified_claims(idp, idp.id_token("alice"), "RS256")
        assert claims["email"] == "alice@elsewhere.example"
        assert claims["ram_role"] == ROLE_ARN


def test_fingerprint_is_the_sha1_of_the_certificate_actually_served(oidc_idp) -> None:  # type: ignore[no-untyped-def]
    port = urllib.parse.urlsplit(oidc_idp.issuer).port
    context = oidc_idp.ssl_context()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        served = tls.getpeercert(binary_form=True)

    assert re.fullmatch(r"[0-9a-f]{40}", oidc_idp.fingerprint)
    assert hashlib.sha1(served).hexdigest() == oidc_idp.fingerprint


def test_login_and_consent_pages_are_the_forms_a_browser_test_fills(oidc_idp) -> None:  # type: ignore[no-untyped-def]
    """The pages a Playwright test meets, and that they fetch nothing from outside."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=oidc_idp.ssl_context()),
        urllib.request.HTTPCookieProcessor(CookieJar()),
    )
    query = urllib.parse.urlencode(
        {
            "client_id": "ram-console",
            "redirect_uri": oidc_idp.redirect_uris("ram-console")[0],
            "response_type": "code",
            "scope": "openid email",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    with opener.open(f"{oidc_idp.issuer}/auth?{query}", timeout=10) as response:
        login_page = response.read().decode()
        login_url = response.url

    assert "/interaction/" in login_url
    assert f'<form autocomplete="off" action="{login_url}" method="post">' in login_page
    assert '<input type="hidden" name="prompt" value="login"/>' in login_page
    assert 'name="login"' in login_page
    assert 'name="password"' in login_page
    assert ">Sign-in</button>" in login_page
    assert "googleapis" not in login_page

    form = {"prompt": "login", "login": "alice", "password": "whatever"}
    with opener.open(login_url, urllib.parse.urlencode(form).encode(), timeout=10) as response:
        consent_page = response.read().decode()

    assert '<input type="hidden" name="prompt" value="consent"/>' in consent_page
    assert ">Continue</button>" in consent_page
    assert "<h1>Authorize</h1>" in consent_page
    assert "googleapis" not in consent_page
