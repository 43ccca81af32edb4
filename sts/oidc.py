"""OpenID Connect: verifying an ID token from an account's OIDC provider (AssumeRoleWithOIDC and
console sign-in), and the HTTPS calls to the issuer that this takes.

The issuer's signing keys come from its JWKS, found through
``<issuer>/.well-known/openid-configuration``. Every HTTPS connection to the issuer is pinned: the
certificate the server presents must have one of the provider's SHA-1 fingerprints (Alibaba
Cloud's ``Fingerprints``), which replaces the system's certificate authorities. Key sets are kept
per process for ``JWKS_TTL`` and fetched again when a token names a key id not in them (the issuer
rotated its keys), at most once per ``JWKS_MIN_REFRESH`` per issuer.

Only asymmetric algorithms are accepted (RS*, PS*, ES*): never ``none``, never HMAC, whose "secret"
would be the public key.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from iam import errors
from iam.models import OIDCProvider

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
JWKS_TTL = 3600.0
JWKS_MIN_REFRESH = 1.0
FETCH_TIMEOUT = 5.0
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_TOKEN_LENGTH = 16 * 1024
UNREACHABLE = "AuthenticationFail.OIDCToken.HttpsUrlInvalid"


def refused(problem: str, message: str) -> errors.AuthenticationFailed:
    return errors.AuthenticationFailed(f"AuthenticationFail.OIDCToken.{problem}", message)


def invalid_signature() -> errors.AuthenticationFailed:
    return refused("InvalidSignature", "OIDC token validate failed: invalid signature.")


def unreachable(message: str) -> errors.AuthenticationFailed:
    return errors.AuthenticationFailed(UNREACHABLE, message)


# --- pinned HTTPS -----------------------------------------------------------------------------------


def fingerprint_of(der: bytes) -> str:
    return hashlib.sha1(der, usedforsecurity=False).hexdigest()


def pinned_connection(url: str, fingerprints: list[str]) -> http.client.HTTPSConnection:
    """A connection to ``url``'s host whose certificate has one of ``fingerprints``."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise unreachable(f"{url} is not an https URL.")
    context = ssl.create_default_context()
    # The pinned fingerprint is the trust anchor here, not the system's certificate authorities.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port or 443, context=context, timeout=FETCH_TIMEOUT
    )
    try:
        connection.connect()
    except OSError as error:
        connection.close()
        raise unreachable(f"The issuer {parts.netloc} cannot be reached: {error}.") from None
    presented = connection.sock.getpeercert(binary_form=True) if connection.sock else None
    if presented is None or fingerprint_of(presented) not in fingerprints:
        connection.close()
        raise unreachable(
            f"The certificate of {parts.netloc} matches none of the provider's fingerprints."
        )
    return connection


def fetch_json(url: str, fingerprints: list[str]) -> dict[str, Any]:
    connection = pinned_connection(url, fingerprints)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        raise unreachable(f"{url} could not be read: {error}.") from None
    finally:
        connection.close()
    if response.status != 200 or len(body) > MAX_DOCUMENT_BYTES:
        raise unreachable(f"{url} answered HTTP {response.status}.")
    try:
        document = json.loads(body)
    except ValueError:
        raise unreachable(f"{url} did not answer JSON.") from None
    if not isinstance(document, dict):
        raise unreachable(f"{url} did not answer a JSON object.")
    return document


def discovery(issuer_url: str, fingerprints: list[str]) -> dict[str, Any]:
    """The issuer's OpenID configuration; its ``issuer`` must be the provider's issuer URL."""
    document = fetch_json(
        f"{issuer_url.rstrip('/')}/.well-known/openid-configuration", fingerprints
    )
    if str(document.get("issuer", "")).rstrip("/") != issuer_url.rstrip("/"):
        raise unreachable("The issuer's OpenID configuration names another issuer.")
    return document


# --- key sets -----------------------------------------------------------------------------------


@dataclass
class CachedKeys:
    keys: KeySet
    kids: frozenset[str]
    fetched: float


_key_sets: dict[tuple[str, tuple[str, ...]], CachedKeys] = {}
_key_sets_lock = threading.Lock()


def fetch_keys(issuer_url: str, fingerprints: list[str]) -> CachedKeys:
    jwks_uri = str(discovery(issuer_url, fingerprints).get("jwks_uri", ""))
    document = fetch_json(jwks_uri, fingerprints)
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise unreachable("The issuer's JWKS could not be read.") from None
    kids = frozenset(str(key.kid) for key in keys.keys if key.kid)
    return CachedKeys(keys, kids, time.monotonic())


def keys_for(provider: OIDCProvider, kid: str | None) -> KeySet:
    """The issuer's keys, fetched again when stale or when ``kid`` is not among them."""
    cache_key = (provider.issuer_url, tuple(sorted(provider.fingerprints)))
    now = time.monotonic()
    with _key_sets_lock:
        cached = _key_sets.get(cache_key)
    stale = cached is None or now - cached.fetched > JWKS_TTL
    unknown_kid = cached is not None and kid is not None and kid not in cached.kids
    if stale or (unknown_kid and now - cached.fetched >= JWKS_MIN_REFRESH):  # type: ignore[union-attr]
        cached = fetch_keys(provider.issuer_url, provider.fingerprints)
        with _key_sets_lock:
            _key_sets[cache_key] = cached
    assert cached is not None
    return cached.keys


def forget_keys() -> None:
    with _key_sets_lock:
        _key_sets.clear()


# --- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedToken:
    issuer: str
    subject: str
    audience: str  # the provider's client id the token was issued to
    issued_at: datetime
    expires_at: datetime
    claims: dict[str, Any]

    @property
    def context(self) -> dict[str, str]:
        """The ``oidc:*`` condition keys a trust policy can test."""
        return {"oidc:iss": self.issuer, "oidc:aud": self.audience, "oidc:sub": self.subject}


def token_header(token: str) -> dict[str, Any]:
    if not token:
        raise refused("Invalid", "The OIDCToken can not empty.")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise refused(
            "Invalid", "The number of Jwt field should be divided into 3 parts with '.' ."
        )
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise refused("Invalid", "The Jwt content is invalid that cannot be recognized.") from None
    if header.get("alg") not in ALGORITHMS:
        raise refused(
            "Invalid",
            f"The algorithm {header.get('alg')} that be specified in Jwt header is unknown.",
        )
    return header


def verify_token(token: str, provider: OIDCProvider, *, now: datetime) -> VerifiedToken:
    """Check an ID token's signature with the issuer's keys, then its claims: ``iss`` the
    provider's issuer, ``aud`` one of its client ids, ``exp``/``nbf``/``iat`` with the allowed
    clock skew, and ``iat`` within the provider's issuance limit."""
    header = token_header(token)
    keys = keys_for(provider, header.get("kid"))
    try:
        decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
    except JoseError:
        raise invalid_signature() from None
    claims = dict(decoded.claims)
    return check_claims(claims, provider, now)


def check_claims(claims: dict[str, Any], provider: OIDCProvider, now: datetime) -> VerifiedToken:
    skew = settings.FEDERATION_CLOCK_SKEW
    moment = now.timestamp()
    if str(claims.get("iss", "")).rstrip("/") != provider.issuer_url.rstrip("/"):
        raise refused("IssuerNotMatch", "Invalid issuer.")
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    matched = [audience for audience in audiences if audience in provider.client_ids]
    if not matched:
        raise refused("AudienceNotMatch", "Invalid audience.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise refused("Invalid", "The token has no subject (sub).")
    expires_at, issued_at = number(claims, "exp"), number(claims, "iat")
    if moment - skew >= expires_at:
        raise refused("Expired", "This JsonWebToken is expired.")
    if "nbf" in claims and number(claims, "nbf") > moment + skew:
        raise refused("NotYetValid", "This JsonWebToken is not valid yet.")
    if issued_at > moment + skew:
        raise refused("Invalid", "The token was issued in the future (iat).")
    if moment - issued_at > provider.issuance_limit_hours * 3600:
        raise refused(
            "IssuanceTimeLimitExceeded",
            f"The token was issued more than {provider.issuance_limit_hours} hours ago.",
        )
    return VerifiedToken(
        issuer=str(claims["iss"]),
        subject=subject,
        audience=matched[0],
        issued_at=datetime.fromtimestamp(issued_at, UTC),
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        claims=claims,
    )


def number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refused("Invalid", f"The token's {name} claim is missing or not a number.")
    return float(value)


# --- console sign-in: the authorization-code flow with PKCE ----------------------------------------


@dataclass(frozen=True)
class Authorization:
    """One sign-in on its way to the issuer: where to send the browser, and what to check when
    it comes back (kept in the browser's server-side session)."""

    url: str
    state: str
    nonce: str
    verifier: str
    client_id: str


def start_authorization(
    provider: OIDCProvider, *, client_id: str, redirect_uri: str
) -> Authorization:
    endpoint = str(
        discovery(provider.issuer_url, provider.fingerprints).get("authorization_endpoint", "")
    )
    if not endpoint.startswith("https://"):
        raise unreachable("The issuer's OpenID configuration has no https authorization endpoint.")
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.decode("ascii"),
            "code_challenge_method": "S256",
        }
    )
    separator = "&" if "?" in endpoint else "?"
    return Authorization(f"{endpoint}{separator}{query}", state, nonce, verifier, client_id)


def exchange_code(
    provider: OIDCProvider, *, code: str, redirect_uri: str, client_id: str, verifier: str
) -> str:
    """The ID token for an authorization code, from the issuer's token endpoint (a public
    client: PKCE, no secret)."""
    endpoint = str(discovery(provider.issuer_url, provider.fingerprints).get("token_endpoint", ""))
    connection = pinned_connection(endpoint, provider.fingerprints)
    parts = urlsplit(endpoint)
    form = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        }
    )
    try:
        connection.request(
            "POST",
            parts.path or "/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        response = connection.getresponse()
        body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        raise unreachable(f"The token endpoint could not be reached: {error}.") from None
    finally:
        connection.close()
    try:
        answer = json.loads(body) if len(body) <= MAX_DOCUMENT_BYTES else {}
    except ValueError:
        answer = {}
    token = answer.get("id_token") if isinstance(answer, dict) else None
    if response.status != 200 or not isinstance(token, str):
        raise refused(
            "Invalid", "The identity provider did not hand out an ID token for this sign-in."
        )
    return token
