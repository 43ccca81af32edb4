"""Verification (and creation) of signed Alibaba Cloud RPC requests: V2 and V3.

Pure Python: the web layer turns its request into a ``SignedRequest`` (decoded query and form
pairs in order with blanks kept, lower-cased headers, raw body) and passes a ``lookup_secret``
callable; ``verify`` answers with a ``VerifiedSignature`` or raises ``SignatureError`` carrying
Alibaba's code, message and HTTP status (spec §2.4).

V2 (``SignatureVersion=1.0``, HMAC-SHA1 or HMAC-SHA256, ``Signature`` parameter)
    Every query and form parameter except ``Signature`` is RFC 3986 percent-encoded, sorted by
    name, joined as ``k=v&…`` and signed as ``METHOD&%2F&pe(canonical)`` with key ``secret + "&"``.
    ``alibabacloud-credentials`` builds its string with ``quote_plus`` twice, so a space becomes
    ``%2B`` where everyone else has ``%2520``. Its signature is still a proof of possession of
    the secret over the same parameters (it only differs in how a space is spelled, and ``+``
    inside values is ``%252B`` in both), so when the standard string does not match we also try
    that variant rather than refuse the default credential chain whenever a Policy has a space.

V3 (``Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…``)
    CanonicalRequest from the query (not the form), the headers the client listed in
    SignedHeaders, and the payload hash; key is the secret without ``&``. The client's list is
    used as is (the Python SDK signs every header it sets), but the headers that route or protect
    against replay (``x-acs-action``, ``x-acs-version``, ``x-acs-date``,
    ``x-acs-signature-nonce``) must be in it. Other headers need not be: the payload hash in the
    canonical request is computed from the body itself whenever there is one (so form parameters
    are always covered), and a token is bound to its access key anyway. A declared
    ``x-acs-content-sha256`` that differs from the body's hash is ``SignatureDoesNotMatch``.

Not done here: nonce single use (needs shared storage — the caller records
``VerifiedSignature.nonce``), the access key's status, and SecurityToken opening (``sts.tokens``).
For STS credentials the caller's ``lookup_secret`` needs the token; ``claimed_credentials`` reads
the access key id and token from a request before verification.

Codes chosen where the spec is silent:
    - missing V2 common parameter ``X`` (including ``Action``/``Version``, also the V3 headers
      ``x-acs-action``/``x-acs-version``): ``MissingX`` 400 "X is mandatory for this action.";
    - malformed ``Authorization``, an unsupported ``SignatureMethod``/``SignatureVersion``/V3
      algorithm, missing or unsigned V3 ``x-acs-date``/``x-acs-signature-nonce``, a signed header
      that is absent: ``IncompleteSignature`` 400 with the reason;
    - timestamps: ``YYYY-MM-DDThh:mm:ssZ``, optionally with fractional seconds (``.123Z``, which
      some non-Python clients send; harmless).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote, quote_plus

from iam.errors import ServiceError

SignatureVersion = Literal["v2", "v3"]

MAX_CLOCK_SKEW = timedelta(minutes=15)
V2_SIGNATURE_METHODS: dict[str, str] = {"HMAC-SHA1": "sha1", "HMAC-SHA256": "sha256"}
V2_SIGNATURE_VERSION = "1.0"
V3_ALGORITHM = "ACS3-HMAC-SHA256"

V3_REQUIRED_SIGNED_HEADERS = (
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
)

COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "SecurityToken",
    }
)

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z\Z", re.ASCII)

SIGNATURE_MISMATCH_PREFIX = (
    "Specified signature is not matched with our calculation. server string to sign is:"
)
INCOMPLETE_SIGNATURE_PREFIX = "The request signature does not conform to Aliyun standards."


class SignatureError(ServiceError):
    """A refused request signature, in Alibaba's words."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(code, message, http_status=http_status)


def missing(name: str) -> SignatureError:
    return SignatureError(f"Missing{name}", f"{name} is mandatory for this action.")


def incomplete(reason: str) -> SignatureError:
    return SignatureError("IncompleteSignature", f"{INCOMPLETE_SIGNATURE_PREFIX} {reason}")


def signature_mismatch(string_to_sign: str, reason: str = "") -> SignatureError:
    """Keep the colon: the legacy SDK does ``message.split(':')[1]`` on this message."""
    message = SIGNATURE_MISMATCH_PREFIX + string_to_sign
    if reason:
        message = f"{reason} {message}"
    return SignatureError("SignatureDoesNotMatch", message)


@dataclass(frozen=True)
class SignedRequest:
    """A framework-free view of an RPC request, as the signature sees it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    """Decoded query parameters, in order, blanks kept."""
    form: list[tuple[str, str]]
    """Decoded ``application/x-www-form-urlencoded`` body parameters (may be empty)."""
    headers: Mapping[str, str]
    """Lower-cased header names -> value."""
    body: bytes = b""


@dataclass(frozen=True)
class VerifiedSignature:
    access_key_id: str
    version: SignatureVersion
    signature_method: str
    nonce: str
    timestamp: datetime
    security_token: str | None
    action: str
    api_version: str
    params: dict[str, str] = field(default_factory=dict)
    """Business parameters: query + form without the common/signing ones (last value wins)."""
    format: str | None = None
    """V2 ``Format`` as sent (``json``/``JSON``/``XML``), or None; the caller picks the default."""


# -- shared helpers ---------------------------------------------------------------------------


UNRESERVED_RE = re.compile(r"[A-Za-z0-9_.~-]*")


def percent_encode(value: str) -> str:
    """RFC 3986: keep ``A-Z a-z 0-9 - _ . ~``, UTF-8 ``%XY`` (upper hex) for everything else.
    Most names and values need no escaping; those skip ``quote`` (the hot path signs ~20)."""
    if UNRESERVED_RE.fullmatch(value):
        return value
    return quote(value, safe="~", encoding="utf-8")


def parse_timestamp(value: str) -> datetime:
    """``YYYY-MM-DDThh:mm:ssZ`` (fractional seconds tolerated and dropped) -> aware UTC."""
    match = TIMESTAMP_RE.match(value)
    if match is None:
        raise ValueError(f"not an ISO 8601 UTC timestamp: {value!r}")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)


def format_timestamp(moment: datetime) -> str:
    """Aware datetime -> ``YYYY-MM-DDThh:mm:ssZ`` in UTC (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def _header_map(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _last_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)


def detect_signature_version(request: SignedRequest) -> SignatureVersion | None:
    """``v3`` for an ``ACS3-`` Authorization header, ``v2`` for a ``Signature`` param, else None."""
    authorization = _header_map(request.headers).get("authorization", "")
    if authorization.startswith("ACS3-"):
        return "v3"
    if any(name == "Signature" for name, _ in (*request.query, *request.form)):
        return "v2"
    return None


def _security_token(
    version: SignatureVersion, headers: Mapping[str, str], params: Mapping[str, str]
) -> str | None:
    """V2 carries it as ``SecurityToken``, V3 as ``x-acs-security-token``; accept either place.

    An unsigned location is harmless: a token is bound to one access key id, whose secret signed
    the request.
    """
    in_header = headers.get("x-acs-security-token") or None
    in_params = params.get("SecurityToken") or None
    return (in_header or in_params) if version == "v3" else (in_params or in_header)


def claimed_credentials(request: SignedRequest) -> tuple[str | None, str | None]:
    """``(access_key_id, security_token)`` as the request claims them, before verification.

    Lets the caller open an STS token to find the session secret for ``lookup_secret``.
    """
    headers = _header_map(request.headers)
    params = _last_values((*request.query, *request.form))
    if detect_signature_version(request) == "v3":
        try:
            access_key_id: str | None = parse_v3_authorization(headers["authorization"])[1]
        except SignatureError:
            access_key_id = None
        return access_key_id, _security_token("v3", headers, params)
    return params.get("AccessKeyId") or None, _security_token("v2", headers, params)


def claimed_nonce(request: SignedRequest) -> str | None:
    """The signature nonce as the request claims it, before verification."""
    if detect_signature_version(request) == "v3":
        return _header_map(request.headers).get("x-acs-signature-nonce") or None
    return _last_values((*request.query, *request.form)).get("SignatureNonce") or None


def check_timestamp(value: str, now: datetime, max_clock_skew: timedelta) -> datetime:
    try:
        timestamp = parse_timestamp(value)
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ) from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if abs(timestamp - now) > max_clock_skew:
        raise SignatureError(
            "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        )
    return timestamp


def business_params(request: SignedRequest) -> dict[str, str]:
    return {
        name: value
        for name, value in (*request.query, *request.form)
        if name not in COMMON_PARAMETERS
    }


def _same(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))


# -- V2 ---------------------------------------------------------------------------------------


def v2_canonicalized_query(params: Iterable[tuple[str, str]]) -> str:
    """Sorted (by name, then value) ``pe(k)=pe(v)`` pairs without ``Signature``, joined by ``&``."""
    pairs = sorted((name, value) for name, value in params if name != "Signature")
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in pairs)


def v2_string_to_sign(method: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD&%2F&pe(CanonicalizedQueryString)`` (spec §2.2).

    The canonicalized query holds only unreserved characters and ``%``, ``=``, ``&``, so encoding
    it again escapes just those three (``%`` first, so no escape is escaped twice)."""
    canonical = v2_canonicalized_query(params)
    escaped = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method.upper()}&%2F&{escaped}"


def v2_string_to_sign_credentials_quirk(method: str, params: Iterable[tuple[str, str]]) -> str:
    """The StringToSign ``alibabacloud-credentials`` builds: ``quote_plus`` inside and out.

    Identical to ``v2_string_to_sign`` unless a name or value holds a space (``+`` -> ``%2B``
    instead of ``%20`` -> ``%2520``).
    """
    pairs = sorted((name, value) for name, value in params if name != "Signature")
    canonical = "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in pairs)
    return f"{method.upper()}&{quote_plus('/')}&{quote_plus(canonical)}"


def v2_signature(secret: str, string_to_sign: str, method: str = "HMAC-SHA1") -> str:
    """``Base64(HMAC(secret + "&", StringToSign))`` with SHA-1 or SHA-256."""
    digest = V2_SIGNATURE_METHODS[method]
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign_v2(
    method: str,
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    *,
    nonce: str,
    timestamp: datetime | str,
    security_token: str | None = None,
    signature_method: str = "HMAC-SHA1",
) -> dict[str, str]:
    """Add the V2 common signing parameters and ``Signature`` to ``params`` (a new dict).

    ``params`` should carry ``Action``, ``Version`` (and ``Format`` if wanted).
    """
    signed = dict(params)
    signed.update(
        {
            "AccessKeyId": access_key_id,
            "SignatureMethod": signature_method,
            "SignatureVersion": V2_SIGNATURE_VERSION,
            "SignatureNonce": nonce,
            "Timestamp": timestamp if isinstance(timestamp, str) else format_timestamp(timestamp),
        }
    )
    if security_token:
        signed["SecurityToken"] = security_token
    signed.pop("Signature", None)
    string_to_sign = v2_string_to_sign(method, signed.items())
    signed["Signature"] = v2_signature(secret, string_to_sign, signature_method)
    return signed


def _verify_v2(
    request: SignedRequest,
    lookup_secret: Callable[[str], str],
    now: datetime,
    max_clock_skew: timedelta,
) -> VerifiedSignature:
    all_params = [*request.query, *request.form]
    common = _last_values(all_params)
    for name in (
        "AccessKeyId",
        "Signature",
        "SignatureNonce",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "Action",
        "Version",
    ):
        if not common.get(name):
            raise missing(name)
    method = common["SignatureMethod"]
    if method not in V2_SIGNATURE_METHODS:
        raise incomplete(f"SignatureMethod {method} is not supported.")
    if common["SignatureVersion"] != V2_SIGNATURE_VERSION:
        raise incomplete(f"SignatureVersion {common['SignatureVersion']} is not supported.")
    timestamp = check_timestamp(common["Timestamp"], now, max_clock_skew)

    access_key_id = common["AccessKeyId"]
    secret = lookup_secret(access_key_id)
    received = common["Signature"]
    string_to_sign = v2_string_to_sign(request.method, all_params)
    if not _same(v2_signature(secret, string_to_sign, method), received):
        quirk = v2_string_to_sign_credentials_quirk(request.method, all_params)
        if quirk == string_to_sign or not _same(v2_signature(secret, quirk, method), received):
            raise signature_mismatch(string_to_sign)

    headers = _header_map(request.headers)
    return VerifiedSignature(
        access_key_id=access_key_id,
        version="v2",
        signature_method=method,
        nonce=common["SignatureNonce"],
        timestamp=timestamp,
        security_token=_security_token("v2", headers, common),
        action=common["Action"],
        api_version=common["Version"],
        params=business_params(request),
        format=common.get("Format") or None,
    )


# -- V3 ---------------------------------------------------------------------------------------


def parse_v3_authorization(header: str) -> tuple[str, str, list[str], str]:
    """``ACS3-… Credential=AK,SignedHeaders=a;b,Signature=hex`` -> its four parts.

    Raises ``SignatureError`` (``IncompleteSignature``) when a part is missing or empty.
    """
    algorithm, _, rest = header.strip().partition(" ")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals:
            raise incomplete("The Authorization header is malformed.")
        parts[name.strip()] = value.strip()
    access_key_id = parts.get("Credential", "")
    signed_headers = [name.strip().lower() for name in parts.get("SignedHeaders", "").split(";")]
    signature = parts.get("Signature", "")
    if not algorithm or not access_key_id or not signature or not all(signed_headers):
        raise incomplete(
            "The Authorization header must carry Credential, SignedHeaders and Signature."
        )
    return algorithm, access_key_id, signed_headers, signature


def v3_canonical_query(query: Iterable[tuple[str, str]]) -> str:
    """``pe(k)=pe(v)`` sorted by encoded name then value; an empty value stays ``k=``."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in query)
    return "&".join(f"{name}={value}" for name, value in encoded)


def v3_hashed_payload(request: SignedRequest) -> str:
    """The body's SHA-256 as the client declared it; for an empty body the header is trusted."""
    declared = _header_map(request.headers).get("x-acs-content-sha256")
    if request.body or declared is None:
        return hashlib.sha256(request.body).hexdigest()
    return declared.strip()


def v3_canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    """Method, URI, query, the client-listed headers, their names and the payload hash."""
    headers = _header_map(request.headers)
    names = sorted({name.lower() for name in signed_headers})
    for name in names:
        if name not in headers:
            raise incomplete(f"Signed header {name} is not in the request.")
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
    return "\n".join(
        (
            request.method.upper(),
            request.path or "/",
            v3_canonical_query(request.query),
            canonical_headers,
            ";".join(names),
            v3_hashed_payload(request),
        )
    )


def v3_string_to_sign(algorithm: str, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{algorithm}\n{digest}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    """Lower-hex ``HMAC-SHA256(secret, StringToSign)`` (no ``&`` on the key, unlike V2)."""
    return hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def sign_v3(
    method: str,
    host: str,
    query: Mapping[str, str] | Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret: str,
    *,
    action: str,
    version: str,
    nonce: str,
    date: datetime | str,
    security_token: str | None = None,
) -> dict[str, str]:
    """The request headers, ``authorization`` included, signing every header like the SDK."""
    signed = _header_map(headers)
    signed.update(
        {
            "host": host,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": date if isinstance(date, str) else format_timestamp(date),
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
    )
    if security_token:
        signed["x-acs-security-token"] = security_token
        signed["x-acs-accesskey-id"] = access_key_id
    signed.pop("authorization", None)
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    request = SignedRequest(method, "/", pairs, [], signed, body)
    names = sorted(signed)
    string_to_sign = v3_string_to_sign(V3_ALGORITHM, v3_canonical_request(request, names))
    signed["authorization"] = (
        f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(names)},"
        f"Signature={v3_signature(secret, string_to_sign)}"
    )
    return signed


def _verify_v3(
    request: SignedRequest,
    lookup_secret: Callable[[str], str],
    now: datetime,
    max_clock_skew: timedelta,
) -> VerifiedSignature:
    headers = _header_map(request.headers)
    algorithm, access_key_id, signed_headers, received = parse_v3_authorization(
        headers["authorization"]
    )
    if algorithm != V3_ALGORITHM:
        raise incomplete(f"Signature algorithm {algorithm} is not supported.")
    if not headers.get("x-acs-action"):
        raise missing("Action")
    if not headers.get("x-acs-version"):
        raise missing("Version")
    for name in ("x-acs-date", "x-acs-signature-nonce"):
        if not headers.get(name):
            raise incomplete(f"Header {name} is required.")
    for name in V3_REQUIRED_SIGNED_HEADERS:
        if name not in signed_headers:
            raise incomplete(f"Header {name} must be signed.")
    timestamp = check_timestamp(headers["x-acs-date"], now, max_clock_skew)

    string_to_sign = v3_string_to_sign(algorithm, v3_canonical_request(request, signed_headers))
    declared_hash = headers.get("x-acs-content-sha256", "").strip().lower()
    if request.body and declared_hash and declared_hash != v3_hashed_payload(request):
        raise signature_mismatch(
            string_to_sign, "The x-acs-content-sha256 header is not the SHA-256 of the body."
        )
    secret = lookup_secret(access_key_id)
    if not _same(v3_signature(secret, string_to_sign), received):
        raise signature_mismatch(string_to_sign)

    params = _last_values((*request.query, *request.form))
    return VerifiedSignature(
        access_key_id=access_key_id,
        version="v3",
        signature_method=algorithm,
        nonce=headers["x-acs-signature-nonce"],
        timestamp=timestamp,
        security_token=_security_token("v3", headers, params),
        action=headers["x-acs-action"],
        api_version=headers["x-acs-version"],
        params=business_params(request),
        format=None,
    )


def verify(
    request: SignedRequest,
    lookup_secret: Callable[[str], str],
    *,
    now: datetime,
    max_clock_skew: timedelta = MAX_CLOCK_SKEW,
) -> VerifiedSignature:
    """Check a request's signature and clock; raise ``SignatureError`` in Alibaba's words.

    Order: presence and shape of the signing fields, timestamp (format, then ±15 min of ``now``),
    then ``lookup_secret(access_key_id)`` (its exceptions propagate, e.g. for an unknown key), then
    the signature itself, compared in constant time. A request with neither an ``ACS3-``
    Authorization header nor a ``Signature`` parameter is treated as V2, so its first missing
    field is named (``MissingAccessKeyId`` …).
    """
    if detect_signature_version(request) == "v3":
        return _verify_v3(request, lookup_secret, now, max_clock_skew)
    return _verify_v2(request, lookup_secret, now, max_clock_skew)
