"""Role tokens: the self-contained, tamper-proof ``SecurityToken`` of an STS session.

Why authenticated encryption and not just a MAC
    A request signed with STS credentials carries ``AccessKeyId`` (``STS.…``), ``SecurityToken`` and
    a signature made with the session's ``AccessKeySecret``. To verify that signature without a
    database read, the server must recover the secret from the token itself. A MAC would have to
    carry the secret in clear, and anyone who ever saw a token (logs, proxies) could then sign as
    the session. So the claims are encrypted *and* authenticated with AES-256-GCM: only the
    server's key ring can read or mint them, and any change to any byte is detected.

Format
    ``"CAIS" + base64url(envelope)`` (real Alibaba tokens start with ``CAIS`` too; base64url needs
    no escaping in query strings). The envelope is ``iam.ciphers``'s: format version byte, key id,
    96-bit random nonce, ciphertext+tag, with the header and the purpose label bound as
    associated data. The key id inside lets old keys keep opening tokens after rotation while the
    newest key (first in the ring) mints new ones.

Payload
    Compact JSON with short keys, defaults omitted, then zlib when that is smaller (one flag byte
    says which). A 2 KB session policy roughly halves under zlib. Compressing before encrypting
    leaks length, but the only secret inside (the session secret) is freshly random and is handed
    to the very caller who chooses the other fields, so a length oracle teaches nothing.

Errors
    ``TokenError`` carries the Alibaba code, message and HTTP status: anything unparsable,
    tampered, from an unknown key or of an unknown version is ``InvalidSecurityToken.Malformed``;
    past ``expires_at`` is ``InvalidSecurityToken.Expired``; a token presented with another
    access key id is ``InvalidSecurityToken.MismatchWithAccessKey`` (``check_bound``).
    Revocation is not decided here: the caller checks ``session_id`` / ``issued_at`` against the
    role's revocation state.
"""

from __future__ import annotations

import json
import secrets
import string
import zlib
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import Any

from iam.ciphers import InvalidCiphertext, KeyRing, b64url_decode, b64url_encode, seal, unseal
from iam.errors import ServiceError

TOKEN_PREFIX = "CAIS"
TOKEN_PURPOSE = b"role-token"
STS_ACCESS_KEY_PREFIX = "STS."
STS_ACCESS_KEY_RANDOM_LENGTH = 24
SECRET_LENGTH = 40
BASE62 = string.ascii_letters + string.digits

PAYLOAD_JSON = 0
PAYLOAD_ZLIB_JSON = 1


class TokenError(ServiceError):
    """A SecurityToken refusal in Alibaba's words."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(code, message, http_status=http_status)


def malformed() -> TokenError:
    return TokenError("InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")


def expired() -> TokenError:
    return TokenError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")


def mismatch_with_access_key() -> TokenError:
    return TokenError(
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Specified SecurityToken mismatch with the AccessKey.",
    )


@dataclass(frozen=True)
class RoleTokenClaims:
    """Everything a node needs to authenticate and authorize a role-session request."""

    access_key_id: str
    access_key_secret: str
    account_id: str
    role_id: str
    role_name: str
    session_name: str
    session_id: str
    issued_at: int
    expires_at: int
    source_identity: str
    """ARN of the real user or service that started the chain; kept through role chaining."""
    source_account_id: str
    caller_arn: str
    """ARN of the immediate caller (a user, service, or the previous hop's session)."""
    session_policy: str | None = None
    chain_depth: int = 0
    external_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    user_source_identity: str | None = None
    """The client-supplied ``SourceIdentity`` parameter, if any."""
    mfa_present: bool = False


_SHORT_KEYS: dict[str, str] = {
    "access_key_id": "ak",
    "access_key_secret": "sk",
    "account_id": "a",
    "role_id": "r",
    "role_name": "rn",
    "session_name": "sn",
    "session_id": "sid",
    "issued_at": "iat",
    "expires_at": "exp",
    "source_identity": "si",
    "source_account_id": "sa",
    "caller_arn": "c",
    "session_policy": "p",
    "chain_depth": "d",
    "external_id": "x",
    "source_ip": "ip",
    "user_agent": "ua",
    "user_source_identity": "usi",
    "mfa_present": "mfa",
}
_LONG_KEYS: dict[str, str] = {short: long for long, short in _SHORT_KEYS.items()}
_DEFAULTS: dict[str, Any] = {
    field.name: field.default for field in fields(RoleTokenClaims) if field.default is not MISSING
}
_REQUIRED: frozenset[str] = frozenset(
    field.name for field in fields(RoleTokenClaims) if field.name not in _DEFAULTS
)
_INT_CLAIMS = frozenset({"issued_at", "expires_at", "chain_depth"})
_BOOL_CLAIMS = frozenset({"mfa_present"})


DEFLATE_WINDOW_BITS = 12
DEFLATE_MEMORY_LEVEL = 4


def _check_claim_type(name: str, value: Any) -> None:
    if name in _BOOL_CLAIMS:
        ok = isinstance(value, bool)
    elif name in _INT_CLAIMS:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str) or (value is None and _DEFAULTS.get(name, 0) is None)
    if not ok:
        raise ValueError(f"claim {name!r} has the wrong type")


def encode_claims(claims: RoleTokenClaims) -> bytes:
    """Compact JSON (short keys, defaults left out), zlib-compressed when that is smaller.

    Raises ``ValueError`` if a claim has the wrong type, so a bad token is never minted.
    """
    compact: dict[str, Any] = {}
    for name, short in _SHORT_KEYS.items():
        value = getattr(claims, name)
        _check_claim_type(name, value)
        if name in _DEFAULTS and value == _DEFAULTS[name]:
            continue
        compact[short] = value
    raw = json.dumps(compact, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    compressed = deflate(raw)
    if len(compressed) < len(raw):
        return bytes([PAYLOAD_ZLIB_JSON]) + compressed
    return bytes([PAYLOAD_JSON]) + raw


def deflate(raw: bytes) -> bytes:
    """zlib with a 4 KiB window and small hash tables. Claims are smaller than that window, so the
    output is what the defaults give, without the cost of setting up the default 32 KiB window on
    every call. ``zlib.decompress`` reads the window size from the stream's header, so tokens made
    either way decode alike."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, DEFLATE_WINDOW_BITS, DEFLATE_MEMORY_LEVEL)
    return compressor.compress(raw) + compressor.flush()


def decode_claims(payload: bytes) -> RoleTokenClaims:
    """Inverse of ``encode_claims``; raises ``ValueError`` on anything unexpected."""
    if not payload:
        raise ValueError("empty payload")
    kind, body = payload[0], payload[1:]
    if kind == PAYLOAD_ZLIB_JSON:
        body = zlib.decompress(body)
    elif kind != PAYLOAD_JSON:
        raise ValueError("unknown payload encoding")
    compact = json.loads(body)
    if not isinstance(compact, dict):
        raise ValueError("payload is not an object")
    values: dict[str, Any] = {}
    for short, value in compact.items():
        name = _LONG_KEYS.get(short)
        if name is None:
            raise ValueError(f"unknown claim {short!r}")
        _check_claim_type(name, value)
        values[name] = value
    if missing := _REQUIRED - values.keys():
        raise ValueError(f"missing claims {sorted(missing)}")
    return RoleTokenClaims(**values)


def issue_token(claims: RoleTokenClaims, keyring: KeyRing) -> str:
    """Seal ``claims`` with the ring's active token key; returns ``CAIS…``."""
    envelope = seal(keyring.derive(TOKEN_PURPOSE), encode_claims(claims), context=TOKEN_PURPOSE)
    return TOKEN_PREFIX + b64url_encode(envelope)


def open_token(token: str, keyring: KeyRing, *, now: datetime) -> RoleTokenClaims:
    """Authenticate, decrypt and check the expiry of a SecurityToken.

    ``now`` must be timezone-aware. Raises ``TokenError`` (Malformed or Expired).
    """
    if not token.startswith(TOKEN_PREFIX):
        raise malformed()
    try:
        envelope = b64url_decode(token[len(TOKEN_PREFIX) :])
        payload = unseal(keyring.derive(TOKEN_PURPOSE), envelope, context=TOKEN_PURPOSE)
        claims = decode_claims(payload)
    except (InvalidCiphertext, ValueError, TypeError, zlib.error) as error:
        raise malformed() from error
    if now.timestamp() >= claims.expires_at:
        raise expired()
    return claims


def check_bound(claims: RoleTokenClaims, access_key_id: str) -> None:
    """The token must be presented with the access key id it was issued with."""
    if claims.access_key_id != access_key_id:
        raise mismatch_with_access_key()


def _random_base62(length: int) -> str:
    """Uniform base62 from one read of the system's CSPRNG: bytes below 248 (= 4 * 62) map evenly
    onto the alphabet, the rest are dropped (rejection sampling, no modulo bias)."""
    characters: list[str] = []
    while len(characters) < length:
        characters.extend(
            BASE62[byte % 62] for byte in secrets.token_bytes(length + 8) if byte < 248
        )
    return "".join(characters[:length])


def new_sts_access_key_id() -> str:
    """``STS.`` + 24 random base62 characters (~143 bits)."""
    return STS_ACCESS_KEY_PREFIX + _random_base62(STS_ACCESS_KEY_RANDOM_LENGTH)


def new_secret(length: int = SECRET_LENGTH) -> str:
    """A random base62 access-key secret (40 characters ≈ 238 bits by default)."""
    return _random_base62(length)
