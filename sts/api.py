"""The RPC API at ``/``: one entry point for STS (2015-04-01) and RAM (2015-05-01).

Order of work for every call, as Alibaba's gateway does it: parse the envelope, check the
signing fields and timestamp, look up the access key (``LTAI…`` from the database, ``STS.…``
from its self-contained SecurityToken), verify the signature, spend the nonce (``sts.nonces``: a
unique row or Redis, so single use holds across every server process), resolve the effective
identity (for role credentials: the one indexed revocation look-up), then dispatch on (Version,
Action). Every refusal is an Alibaba-shaped error with its HTTP status; nothing a client sends
produces a 500.

On PostgreSQL with the database nonce store, the nonce's INSERT rides on the statement that reads
the access key (``LTAI…``) or the role session (``STS.…``), so each costs one round trip. The
nonce then counts only for the (access key, nonce) the signature goes on to prove, and is written
only for a key that exists. AssumeRole with an access key writes its session anyway: its look-up
only probes the nonce, and the session's write spends it (``sts.nonces.PendingNonce``), one
commit where there would be two.

With Redis as the nonce store, a key seen before in this process is verified with what never
changes about it (``sts.cached.key_owners``); then one Redis call spends the nonce and reads the
version tokens of the accounts the request depends on, and the rows kept under the same tokens are
reused (``identity_from_shared_store``). For such a key, a bad signature or a spent nonce is
therefore answered before the key's status is: the answer names no more than the uncached path's.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from iam import errors, versions
from iam.audit import Actor, new_request_id, record
from iam.authz import AccessDenied, remember_revision
from iam.crypto import decrypt_secret, key_ring
from iam.identity import (
    IDENTITY_ACCOUNT_FIELDS,
    IDENTITY_ROLE_FIELDS,
    IDENTITY_USER_FIELDS,
    Identity,
    IdentityKind,
    identity_for_user,
)
from iam.models import AccessKey, Account, AuditEvent, Role, Service, User
from iam.rows import Table, fetch_one, fetch_one_after_insert, fetch_one_with
from sts import cached, nonces
from sts.assume import ROLE_ARN_RE, ROLE_BY_NAME, KnownRole, with_account
from sts.nonces import PendingNonce
from sts.sessions import SessionState, check_session, check_session_stamped, session_identity
from sts.signing import (
    SignatureError,
    SignedRequest,
    VerifiedSignature,
    claimed_credentials,
    claimed_nonce,
    verify,
)
from sts.tokens import TokenError, check_bound, open_token

logger = logging.getLogger(__name__)

STS_VERSION = "2015-04-01"
RAM_VERSION = "2015-05-01"
ACCESS_KEY_TOUCH_INTERVAL = timedelta(minutes=1)
# Every access key id we issue: ``LTAI`` or ``STS.`` and base62, within the 40 characters stored.
ACCESS_KEY_ID_RE = re.compile(r"[A-Za-z0-9.]{1,40}")


class ApiError(errors.ServiceError):
    """An error answered in Alibaba's shape; ``detail`` becomes ``AccessDeniedDetail``."""

    def __init__(
        self, code: str, message: str, *, status: int = 400, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, status=status)
        self.detail = detail


@dataclass
class ApiCall:
    """What an action handler gets: who, with which parameters, from where."""

    identity: Identity
    params: dict[str, str]
    actor: Actor
    context: dict[str, Any]
    action: str
    # AssumeRole's target role when it was read with the caller's access key.
    known_role: KnownRole | None = None
    # The request's nonce when it is still to be spent, by the handler's write (NONCE_SPENDERS).
    nonce: PendingNonce | None = None

    def param(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.params.get(name)
        if value in (None, "") and required:
            raise ApiError(f"Missing{name}", f"{name} is mandatory for this action.")
        return value if value is not None else default

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value in (None, ""):
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(f"InvalidParameter.{name}", f'The parameter - "{name}" must be a boolean.')


Handler = Callable[[ApiCall], dict[str, Any]]
ACTIONS: dict[tuple[str, str], Handler] = {}
# Handlers that spend ``ApiCall.nonce`` in their one write (or leave it to the entry point).
NONCE_SPENDERS: set[Handler] = set()


def action(version: str, name: str, *, spends_nonce: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[(version, name)] = handler
        if spends_nonce:
            NONCE_SPENDERS.add(handler)
        return handler

    return register


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs in order, parsed once per request (``request.GET``
    would build a QueryDict only to be thrown away)."""
    pairs = getattr(request, "_api_query", None)
    if pairs is None:
        pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        request._api_query = pairs  # type: ignore[attr-defined]
    return pairs


def is_api_request(request: HttpRequest) -> bool:
    """A request to ``/`` is an API call when it carries ``Action`` or ``x-acs-action``."""
    if "HTTP_X_ACS_ACTION" in request.META or any(
        name == "Action" for name, _ in query_pairs(request)
    ):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method != "POST" or not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    try:
        return "Action" in request.POST
    except (BadRequest, SuspiciousOperation):
        # A form Django will not read (too large, too many fields, not UTF-8) posted to ``/``:
        # only API clients post forms there, so the answer takes the API's shape.
        return True


# --- request parsing ----------------------------------------------------------------------------


def signed_request_from(request: HttpRequest) -> SignedRequest:
    query = query_pairs(request)
    refuse_nul(query)
    body = request.body if request.method == "POST" else b""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    form: list[tuple[str, str]] = []
    if body and content_type == "application/x-www-form-urlencoded":
        form = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    elif body and content_type not in ("application/json", "application/octet-stream", ""):
        raise ApiError(
            "InvalidParameter.ContentType",
            'The ContentType request header must be either "application/json" or '
            '"application/x-www-form-urlencoded".',
        )
    refuse_nul(form)
    headers = {key.lower(): value for key, value in request.headers.items()}
    refuse_nul(headers.items())
    return SignedRequest(
        method=request.method or "GET", path="/", query=query, form=form, headers=headers, body=body
    )


def refuse_nul(pairs: Iterable[tuple[str, str]]) -> None:
    """No parameter of any action may hold a NUL character (nor can PostgreSQL store one): refuse
    it before anything is looked up or written."""
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "")
            raise ApiError("InvalidParameter", f'The specified parameter "{shown}" is not valid.')


def requested_format(signed: SignedRequest) -> str:
    for key, value in [*signed.query, *signed.form]:
        if key == "Format":
            return "xml" if value.lower() == "xml" else "json"
    return "json"


def requested_action(signed: SignedRequest) -> str:
    for key, value in [*signed.query, *signed.form]:
        if key == "Action":
            return value
    return signed.headers.get("x-acs-action", "")


# --- authentication -----------------------------------------------------------------------------


@dataclass
class Caller:
    """The owner of the access key a request was signed with."""

    secret: str = ""
    access_key: AccessKey | None = None
    token_claims: Any = None
    # When the nonce rode on the key's look-up: (access key id, nonce) and whether it was fresh;
    # ``nonce_deferred`` when the look-up only probed it (AssumeRole spends it with its write).
    spent_nonce: tuple[str, str] | None = None
    nonce_fresh: bool = False
    nonce_deferred: bool = False
    # When AssumeRole's target role rode on it too.
    known_role: KnownRole | None = None
    # On Redis deployments, a key seen before: verified with what never changes about it, its
    # rows reused or read after the nonce's round trip (``identity_from_shared_store``).
    key_owner: cached.KeyOwner | None = None
    target: tuple[str, str] | None = None


def look_up_caller(signed: SignedRequest, now: datetime) -> Callable[[str], str]:
    """The ``lookup_secret`` for ``verify``; fills a Caller as a side effect."""
    caller = Caller()
    _, token = claimed_credentials(signed)
    nonce = claimed_nonce(signed)
    target = claimed_role(signed)

    def lookup_secret(access_key_id: str) -> str:
        if not ACCESS_KEY_ID_RE.fullmatch(access_key_id):
            # No key of that shape exists: answer so before any statement carries it.
            raise ApiError(
                "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
            )
        if access_key_id.startswith("STS."):
            if not token:
                raise ApiError(
                    "MissingSecurityToken", "SecurityToken is mandatory for this action."
                )
            claims = open_token(token, key_ring(), now=now)
            check_bound(claims, access_key_id)
            caller.token_claims = claims
            caller.secret = claims.access_key_secret
            return caller.secret
        owner = cached.key_owners.get(access_key_id) if cached.enabled() else None
        if owner is not None:
            caller.key_owner, caller.target = owner, target
            caller.secret = decrypt_secret(owner.secret_ciphertext)
            return caller.secret
        if nonce and nonces.can_spend_with_a_read() and target is not None:
            # AssumeRole writes anyway: the nonce is only probed here, and spent by that write.
            seen, access_key, caller.known_role = load_access_key_probing(
                access_key_id, nonce, target
            )
            caller.spent_nonce = (access_key_id, nonce)
            caller.nonce_fresh = not seen
            caller.nonce_deferred = True
        elif nonce and nonces.can_spend_with_a_read():
            # The timestamp is already checked; the signature is checked next, and the nonce
            # counts as spent only for the (key, nonce) the signature then proves.
            fresh, access_key, caller.known_role = load_access_key_spending(
                access_key_id, nonce, now, target
            )
            caller.spent_nonce = (access_key_id, nonce)
            caller.nonce_fresh = nonces.spent(fresh, now)
        else:
            access_key, caller.known_role = load_access_key(access_key_id, target)
        caller.access_key = usable(access_key)
        caller.secret = decrypt_secret(access_key.secret_ciphertext)
        return caller.secret

    lookup_secret.caller = caller  # type: ignore[attr-defined]
    return lookup_secret


def usable(access_key: AccessKey | None) -> AccessKey:
    """The key, if it exists and it and its user are active."""
    if access_key is None:
        raise ApiError(
            "InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404
        )
    if not access_key.is_active or (access_key.user is not None and not access_key.user.is_active):
        raise ApiError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    return access_key


ACCESS_KEY_TABLES = (
    Table(
        AccessKey,
        "k",
        columns=("user_id", "service_id", "secret_ciphertext", "status", "last_used"),
    ),
    Table(User, "u", on="u.id = k.user_id", columns=IDENTITY_USER_FIELDS),
    Table(Account, "a", on="a.id = u.account_id", columns=IDENTITY_ACCOUNT_FIELDS),
    Table(Service, "v", on="v.id = k.service_id"),
)
# AssumeRole's target, joined on constants (``ROLE_BY_NAME``): the role rides on the key's row,
# or is absent from it.
ACCESS_KEY_AND_ROLE_TABLES = (
    *ACCESS_KEY_TABLES,
    Table(Role, "r", on=ROLE_BY_NAME, columns=IDENTITY_ROLE_FIELDS),
    Table(Account, "ra", on="ra.id = r.account_id", columns=IDENTITY_ACCOUNT_FIELDS),
)


def claimed_role(signed: SignedRequest) -> tuple[str, str] | None:
    """``(account id, role name)`` of an AssumeRole request's RoleArn, before verification, so
    the role can be read with the access key. The handler validates the parameters again."""
    if requested_action(signed) != "AssumeRole":
        return None
    arn = None
    for key, value in [*signed.query, *signed.form]:
        if key == "RoleArn":
            arn = value
    match = ROLE_ARN_RE.match(arn or "")
    return (match.group(1), match.group(2)) if match else None


def load_access_key(
    access_key_id: str, target: tuple[str, str] | None = None
) -> tuple[AccessKey | None, KnownRole | None]:
    """The key with its owner (user and account, or service), and the ``target`` role if one
    is named: one prepared join."""
    tables, join_params = key_tables(target)
    found = fetch_one(tables, "k.access_key_id = %s", [access_key_id], join_params)
    return owned_key(found, target)


KEY_EXISTS = (
    f"SELECT 1 FROM {connection.ops.quote_name(AccessKey._meta.db_table)} "  # noqa: S608
    "WHERE access_key_id = %s"
)


def load_access_key_spending(
    access_key_id: str, nonce: str, now: datetime, target: tuple[str, str] | None = None
) -> tuple[bool, AccessKey | None, KnownRole | None]:
    """``load_access_key`` and the nonce's INSERT in one round trip (PostgreSQL, database store).
    The INSERT writes only for a key that exists, so requests naming made-up keys write nothing."""
    insert, insert_params = nonces.insert_statement(
        access_key_id, nonce, now, only_if=(KEY_EXISTS, [access_key_id])
    )
    tables, join_params = key_tables(target)
    fresh, found = fetch_one_after_insert(
        insert, insert_params, tables, "k.access_key_id = %s", [access_key_id], join_params
    )
    return (fresh, *owned_key(found, target))


def load_access_key_probing(
    access_key_id: str, nonce: str, target: tuple[str, str]
) -> tuple[bool, AccessKey | None, KnownRole | None]:
    """``load_access_key`` and whether the nonce is spent already, in one round trip
    (PostgreSQL, database store); the spend itself is left to the request's write."""
    seen_sql, seen_params = nonces.seen_statement(access_key_id, nonce)
    tables, join_params = key_tables(target)
    seen, found = fetch_one_with(
        seen_sql, seen_params, tables, "k.access_key_id = %s", [access_key_id], join_params
    )
    return (bool(seen), *owned_key(found, target))


def key_tables(target: tuple[str, str] | None) -> tuple[tuple[Table, ...], list[str]]:
    if target is None:
        return ACCESS_KEY_TABLES, []
    return ACCESS_KEY_AND_ROLE_TABLES, list(target)


def owned_key(
    found: list[Any] | None, target: tuple[str, str] | None
) -> tuple[AccessKey | None, KnownRole | None]:
    if found is None:
        return None, None
    access_key, user, account, service, *role_and_account = found
    if user is not None:
        user.account = account
    access_key.user = user
    access_key.service = service
    if target is None:
        return access_key, None
    return access_key, KnownRole(*target, with_account(*role_and_account))


def spend_nonce(access_key_id: str, nonce: str, now: datetime) -> None:
    """Spend the nonce in the shared store (``sts.nonces``); a second use is refused."""
    if not nonces.spend(access_key_id, nonce, now):
        raise nonces.used_error()


def pending_nonce(
    caller: Caller, verified: VerifiedSignature, now: datetime
) -> PendingNonce | None:
    """The verified request's nonce when its look-up only probed it, still to be spent."""
    key_and_nonce = (verified.access_key_id, verified.nonce)
    if caller.nonce_deferred and caller.spent_nonce == key_and_nonce:
        return PendingNonce(*key_and_nonce, now)
    return None


def identity_of(caller: Caller, verified: VerifiedSignature, now: datetime) -> Identity:
    """Spend the nonce, then resolve who the verified caller is (for role credentials, with the
    revocation check, reused while the accounts' versions stand where a shared store allows)."""
    key_and_nonce = (verified.access_key_id, verified.nonce)
    if caller.key_owner is not None or (caller.token_claims is not None and cached.enabled()):
        return identity_from_shared_store(caller, verified, now)
    if caller.token_claims is not None and nonces.can_spend_with_a_read():
        return session_identity_from_database(caller, verified, now)
    if caller.spent_nonce == key_and_nonce:  # it rode on the access key's look-up
        if not caller.nonce_fresh:
            raise nonces.used_error()
    else:
        spend_nonce(*key_and_nonce, now)
    if caller.token_claims is not None:
        return role_session_identity(caller, check_session(caller.token_claims.session_id))
    return key_owner_identity(caller, now)


def session_identity_from_database(
    caller: Caller, verified: VerifiedSignature, now: datetime
) -> Identity:
    """PostgreSQL's nonce store: the nonce's INSERT and the versions of the accounts the session
    depends on in one statement; the session check kept under the same versions is reused, or
    the check and the versions are read again together (one snapshot) and kept."""
    claims = caller.token_claims
    accounts = cached.session_accounts(claims)
    fresh, stamp = nonces.spend_in_database_reading(
        verified.access_key_id, verified.nonce, now, accounts
    )
    if not nonces.spent(fresh, now):
        raise nonces.used_error()
    state = cached.session_checks.get(claims.session_id, stamp)
    if state is cached.MISSING:
        stamp, state = check_session_stamped(claims.session_id, accounts)
        cached.session_checks.put(claims.session_id, stamp, state)
    return role_session_identity(caller, state)


def identity_from_shared_store(
    caller: Caller, verified: VerifiedSignature, now: datetime
) -> Identity:
    """On Redis deployments (``sts.cached``): spend the nonce and read the stamp of the accounts
    the request depends on in one round trip, then reuse the rows read under the same stamp or
    read them now and keep them under it."""
    claims = caller.token_claims
    if claims is not None:
        accounts = cached.session_accounts(claims)
    else:
        assert caller.key_owner is not None
        accounts = [caller.key_owner.account_id]
        if caller.target is not None:
            accounts.append(caller.target[0])
    fresh, stamp = nonces.spend_in_redis_reading(
        versions.shared_store(), verified.access_key_id, verified.nonce, accounts
    )
    if not fresh:
        raise nonces.used_error()
    if claims is not None:
        state = cached.session_checks.get(claims.session_id, stamp)
        if state is cached.MISSING:
            state = check_session(claims.session_id)
            cached.session_checks.put(claims.session_id, stamp, state)
        return role_session_identity(caller, state)
    key_stamp, role_stamp = stamp[:1], stamp[1:]
    access_key = cached.key_rows.get(verified.access_key_id, key_stamp)
    role = None if caller.target is None else cached_role(caller.target, role_stamp)
    if access_key is cached.MISSING or role is cached.MISSING:
        access_key, caller.known_role = load_access_key(verified.access_key_id, caller.target)
        cached.key_rows.put(verified.access_key_id, key_stamp, access_key)
        if caller.known_role is not None:
            role_key = (caller.known_role.account_id, caller.known_role.role_name.lower())
            cached.role_rows.put(role_key, role_stamp, caller.known_role.role)
    elif caller.target is not None:
        caller.known_role = KnownRole(*caller.target, role)
    caller.access_key = usable(access_key)
    return key_owner_identity(caller, now)


def cached_role(target: tuple[str, str], stamp: tuple[Any, ...]) -> Any:
    return cached.role_rows.get((target[0], target[1].lower()), stamp)


def role_session_identity(caller: Caller, state: SessionState) -> Identity:
    claims = caller.token_claims
    if not state.active:
        raise ApiError(
            "InvalidSecurityToken.Revoked",
            f"Specified SecurityToken was revoked: {state.revoked_reason}.",
            status=403,
        )
    identity = session_identity(
        state,
        session_name=claims.session_name,
        expires_at=claims.expires_at,
        session_policy=claims.session_policy,
        source_identity=claims.source_identity,
        source_account_id=claims.source_account_id,
        chain_depth=claims.chain_depth,
        mfa_present=claims.mfa_present,
    )
    assert state.role is not None
    remember_revision(identity, state.role.account)
    return identity


def key_owner_identity(caller: Caller, now: datetime) -> Identity:
    access_key = caller.access_key
    assert access_key is not None
    if access_key.user is not None and caller.key_owner is None and cached.enabled():
        # Verified now: later requests with this key can be verified before any read.
        owner = cached.KeyOwner(access_key.user.account_id, access_key.secret_ciphertext)
        cached.key_owners.put(access_key.access_key_id, owner)
    if access_key.last_used is None or access_key.last_used < now - ACCESS_KEY_TOUCH_INTERVAL:
        AccessKey.objects.filter(pk=access_key.pk).update(last_used=now)
        access_key.last_used = now  # the row may be reused (``sts.cached``)
    if access_key.service is not None:
        return Identity(kind=IdentityKind.SERVICE, account_id="", service=access_key.service)
    assert access_key.user is not None
    identity = identity_for_user(access_key.user)
    remember_revision(identity, access_key.user.account)
    return identity


def api_actor(request: HttpRequest, identity: Identity | None, request_id: str) -> Actor:
    return Actor(
        logon_arn=identity.logon_arn if identity else "",
        effective_arn=identity.arn if identity else "",
        account_id=identity.account_id if identity else "",
        source_account_id=(
            identity.session.source_account_id
            if identity and identity.session
            else (identity.account_id if identity else "")
        ),
        channel=AuditEvent.Channel.API,
        source_ip=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        request_id=request_id,
    )


def request_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    return {
        "acs:SourceIp": request.META.get("REMOTE_ADDR", ""),
        "acs:SecureTransport": request.is_secure(),
        "acs:CurrentTime": now,
    }


# --- the entry point ----------------------------------------------------------------------------


def api_entry(request: HttpRequest) -> HttpResponse:
    request_id = new_request_id()
    host = request.META.get("HTTP_HOST", "")
    response_format = "json"
    action_name = ""
    identity: Identity | None = None
    try:
        signed = signed_request_from(request)
        response_format = requested_format(signed)
        action_name = requested_action(signed)
        now = timezone.now()
        lookup_secret = look_up_caller(signed, now)
        verified = verify(signed, lookup_secret, now=now)
        caller: Caller = lookup_secret.caller  # type: ignore[attr-defined]
        nonce = pending_nonce(caller, verified, now)
        try:
            identity = identity_of(caller, verified, now)
            body = dispatch(request, verified, identity, request_id, now, caller.known_role, nonce)
        finally:
            if nonce is not None:
                nonce.settle()  # whatever the outcome, the nonce is now spent
        body = {"RequestId": request_id, **body}
        return render_body(body, response_format, verified.action, 200)
    except AccessDenied as denied:
        audit_denial(request, identity, request_id, action_name, denied)
        error = ApiError(
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by "
            f"RAM. {denied.explanation}",
            status=403,
            detail=access_denied_detail(identity, denied),
        )
        return render_error(error, response_format, request_id, host)
    except (BadRequest, SuspiciousOperation) as error:
        # Django refused to read the request (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, say).
        status = 413 if isinstance(error, RequestDataTooBig) else 400
        unreadable = ApiError(
            "InvalidParameter", f"The request could not be read: {error}", status=status
        )
        return render_error(unreadable, response_format, request_id, host)
    except (SignatureError, TokenError) as error:
        return render_error(
            ApiError(error.code, error.message, status=error.http_status),
            response_format,
            request_id,
            host,
        )
    except errors.ServiceError as error:
        explanation = getattr(error, "explanation", "")
        if explanation and error.status == 403:
            error = ApiError(
                error.code,
                error.message,
                status=error.status,
                detail={
                    "AuthAction": getattr(error, "action", ""),
                    "AuthResource": getattr(error, "resource", ""),
                    "AuthPrincipalDisplayName": identity.arn if identity else "",
                    "NoPermissionType": "ImplicitDeny",
                    "Explanation": explanation,
                },
            )
        return render_error(error, response_format, request_id, host)
    except Exception as unexpected:
        if errors.database_busy(unexpected):
            # A lost race for a database lock: the action's transaction changed nothing.
            logger.warning("API request %s: database busy (%s)", request_id, unexpected)
            busy = ApiError("ServiceUnavailable", errors.BUSY_MESSAGE, status=503)
            return render_error(busy, response_format, request_id, host)
        logger.exception("API request %s failed", request_id)
        error = ApiError("InternalError", "An internal error occurred.", status=500)
        return render_error(error, response_format, request_id, host)


def dispatch(
    request: HttpRequest,
    verified: VerifiedSignature,
    identity: Identity,
    request_id: str,
    now: datetime,
    known_role: KnownRole | None = None,
    nonce: PendingNonce | None = None,
) -> dict[str, Any]:
    handler = ACTIONS.get((verified.api_version, verified.action))
    if handler is None:
        raise ApiError(
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
            status=404,
        )
    if nonce is not None and handler not in NONCE_SPENDERS:
        # Only a handler that spends the nonce with its own write may run before it is spent.
        if not nonce.settle():
            raise nonces.used_error()
        nonce = None
    call = ApiCall(
        identity=identity,
        params=verified.params,
        actor=api_actor(request, identity, request_id),
        context=request_context(request, now),
        action=verified.action,
        known_role=known_role,
        nonce=nonce,
    )
    return handler(call)


def access_denied_detail(identity: Identity | None, denied: AccessDenied) -> dict[str, Any]:
    kind = {
        IdentityKind.USER: "SubUser",
        IdentityKind.ROLE_SESSION: "AssumedRoleUser",
        IdentityKind.ROOT: "Account",
        IdentityKind.SERVICE: "Service",
    }
    return {
        "AuthAction": denied.action,
        "AuthResource": denied.resource,
        "AuthPrincipalType": kind.get(identity.kind, "") if identity else "",
        "AuthPrincipalOwnerId": identity.account_id if identity else "",
        "AuthPrincipalDisplayName": identity.arn if identity else "",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "NoPermissionType": denied.decision.effect,
        "Explanation": denied.explanation,
    }


def audit_denial(
    request: HttpRequest,
    identity: Identity | None,
    request_id: str,
    action_name: str,
    denied: AccessDenied,
) -> None:
    owner = denied.resource.split(":")[3] if denied.resource.count(":") >= 4 else ""
    record(
        api_actor(request, identity, request_id),
        denied.action,
        denied.resource,
        account_id=owner or (identity.account_id if identity else ""),
        result=AuditEvent.Result.FAILURE,
        error_code="NoPermission",
        details={"ApiAction": action_name, "explanation": denied.explanation},
    )


# --- rendering ----------------------------------------------------------------------------------


def render_body(
    body: dict[str, Any], response_format: str, action_name: str, status: int
) -> HttpResponse:
    """The body as UTF-8, whatever it holds: a lone surrogate (which no UTF-8 encodes) goes out
    as its escape, ``\\ud800``, which in JSON text is the JSON escape of the same string."""
    if response_format == "xml":
        root = f"{action_name}Response" if status < 400 else "Error"
        text = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{to_xml(body)}</{root}>'
        content_type = "text/xml;charset=utf-8"
    else:
        text = json.dumps(body, ensure_ascii=False)
        content_type = "application/json;charset=utf-8"
    content = text.encode("utf-8", "backslashreplace")
    return HttpResponse(content, status=status, content_type=content_type)


# Characters XML 1.0 cannot carry, not even as character references (C0 controls but tab, line
# feed and carriage return; lone surrogates; U+FFFE and U+FFFF).
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text for an XML element: escaped, and what XML cannot carry written as ``\\u0001``."""
    return escape(NOT_XML.sub(lambda found: f"\\u{ord(found[0]):04x}", text))


def to_xml(value: Any) -> str:
    parts = []
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        for element in items:
            if isinstance(element, dict):
                parts.append(f"<{key}>{to_xml(element)}</{key}>")
            else:
                text = str(element).lower() if isinstance(element, bool) else str(element)
                parts.append(f"<{key}>{xml_text(text)}</{key}>")
    return "".join(parts)


def render_error(
    error: errors.ServiceError, response_format: str, request_id: str, host: str
) -> HttpResponse:
    body: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": host,
        "Code": error.code,
        "Message": error.message,
    }
    detail = getattr(error, "detail", None)
    if detail:
        body["AccessDeniedDetail"] = detail
    return render_body(body, response_format, "", error.status)


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The action modules register themselves on import.
from iam import api as _ram_api  # noqa: E402, F401
from sts import actions as _sts_actions  # noqa: E402, F401
