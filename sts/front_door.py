"""The API's front door at ``/``: one path for every RPC call, on every backend.

1. **Parse** the envelope (``SignedRequest``): query, form body, headers.
2. **Verify the signature** (``sts.signing.verify``) with the secret of the credential it claims
   (``Credential.secret_for``): an ``STS.…`` key's secret is inside its self-contained
   SecurityToken; an ``LTAI…`` key's is stored encrypted, and what never changes about a key once
   issued (its account, its encrypted secret) is kept per process (``row_cache.key_secrets``).
3. **Spend the nonce** (``sts.nonces``: the database or Redis, chosen once) and, in the same round
   trip, read the versions of the accounts the request depends on: the caller's, and those the
   action names (``iam.rpc.Action.depends_on``: AssumeRole's RoleArn account).
4. **Resolve the identity**: the access key's owner (the key's row is reused while its account's
   version stands, ``row_cache.access_keys``), or the role session after its revocation check
   (``row_cache.session_checks``).
5. **Dispatch** to the action (``iam.rpc``), which authorizes as that identity and calls one
   service.

Every refusal is an Alibaba-shaped error with its HTTP status; nothing a client sends produces a
500. Authentication never looks at what the action will do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from iam import errors, rpc
from iam.audit import Actor, new_request_id, record
from iam.authz import AccessDenied, remember_revision
from iam.crypto import decrypt_secret, key_ring
from iam.identity import (
    IDENTITY_ACCOUNT_FIELDS,
    IDENTITY_USER_FIELDS,
    Identity,
    IdentityKind,
    identity_for_user,
)
from iam.models import AccessKey, AuditEvent
from sts import row_cache
from sts.nonces import nonce_store
from sts.sessions import SessionState, check_session, session_identity
from sts.signing import (
    MAX_CLOCK_SKEW,
    SignedRequest,
    business_params,
    check_timestamp,
    claimed_credentials,
    detect_signature_version,
    verify,
)
from sts.tokens import RoleTokenClaims, check_bound, open_token

logger = logging.getLogger(__name__)

ACCESS_KEY_TOUCH_INTERVAL = timedelta(minutes=1)
# Every access key id we issue: ``LTAI`` or ``STS.`` and base62, within the 40 characters stored.
ACCESS_KEY_ID_RE = re.compile(r"[A-Za-z0-9.]{1,40}")
KEY_READ = (
    "user_id",
    "service_id",
    "secret_ciphertext",
    "status",
    "last_used",
    *(f"user__{name}" for name in IDENTITY_USER_FIELDS),
    *(f"user__account__{name}" for name in IDENTITY_ACCOUNT_FIELDS),
    "service__name",
)


# --- 1. parse ---------------------------------------------------------------------------------


def signed_request_from(request: HttpRequest) -> SignedRequest:
    query = rpc.query_pairs(request)
    refuse_nul(query)
    body = request.body if request.method == "POST" else b""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    form: list[tuple[str, str]] = []
    if body and content_type == "application/x-www-form-urlencoded":
        form = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    elif body and content_type not in ("application/json", "application/octet-stream", ""):
        raise errors.InvalidParameter(
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
            raise errors.InvalidParameter(
                "InvalidParameter", f'The specified parameter "{shown}" is not valid.'
            )


def requested(signed: SignedRequest, name: str) -> str | None:
    for key, value in [*signed.query, *signed.form]:
        if key == name:
            return value
    return None


def requested_format(signed: SignedRequest) -> str:
    return "xml" if (requested(signed, "Format") or "").lower() == "xml" else "json"


def requested_action(signed: SignedRequest) -> str:
    return requested(signed, "Action") or signed.headers.get("x-acs-action", "")


# --- 2. the credential that signed it ----------------------------------------------------------


def not_found() -> errors.ServiceError:
    return errors.EntityNotExist(
        "InvalidAccessKeyId.NotFound", "Specified access key is not found."
    )


def usable(access_key: AccessKey | None) -> AccessKey:
    """The key, if it exists and it and its user are active."""
    if access_key is None:
        raise not_found()
    if not access_key.is_active or (access_key.user is not None and not access_key.user.is_active):
        raise errors.InvalidParameter(
            "InvalidAccessKeyId.Inactive", "Specified access key is disabled."
        )
    return access_key


def load_access_key(access_key_id: str) -> AccessKey | None:
    """The key with its owner (user and account, or service): one join."""
    return (
        AccessKey.objects.select_related("user__account", "service")
        .only(*KEY_READ)
        .filter(access_key_id=access_key_id)
        .first()
    )


class Credential:
    """What a request was signed with: role credentials (an ``STS.…`` key and its token) or an
    access key (``LTAI…``) of a RAM user, a root identity or a service."""

    def __init__(self, signed: SignedRequest, now: datetime) -> None:
        self.now = now
        self.token = claimed_credentials(signed)[1]
        self.claims: RoleTokenClaims | None = None
        self.access_key_id = ""
        self.account_id = ""  # the key owner's account ("" for a service)
        # The key's row when it had to be read to verify the signature (first sight in this
        # process); read before the versions, so it is used for this request and not kept.
        self.access_key: AccessKey | None = None

    def secret_for(self, access_key_id: str) -> str:
        """The secret ``verify`` checks the signature with."""
        if not ACCESS_KEY_ID_RE.fullmatch(access_key_id):
            raise not_found()  # no key of that shape exists: before any statement carries it
        self.access_key_id = access_key_id
        if access_key_id.startswith("STS."):
            if not self.token:
                raise errors.InvalidParameter(
                    "MissingSecurityToken", "SecurityToken is mandatory for this action."
                )
            self.claims = open_token(self.token, key_ring(), now=self.now)
            check_bound(self.claims, access_key_id)
            return self.claims.access_key_secret
        known = row_cache.key_secrets.get(access_key_id)
        if known is not None:
            self.account_id = known.account_id
            return decrypt_secret(known.secret_ciphertext)
        # Whether the key is active is answered after the signature, as for a key kept here:
        # without its secret nobody learns a key's status.
        self.access_key = load_access_key(access_key_id)
        if self.access_key is None:
            raise not_found()
        user = self.access_key.user
        self.account_id = user.account_id if user is not None else ""
        return decrypt_secret(self.access_key.secret_ciphertext)

    def accounts(self) -> list[str]:
        """The accounts whose versions this credential's identity depends on."""
        if self.claims is not None:
            return row_cache.session_accounts(self.claims)
        return [self.account_id] if self.account_id else []

    def identity(self, versions: dict[str, Any]) -> Identity:
        """4. Who the verified request acts as."""
        if self.claims is not None:
            return self.session_identity(versions)
        return self.key_owner_identity(versions)

    def session_identity(self, versions: dict[str, Any]) -> Identity:
        claims = self.claims
        assert claims is not None
        stamp = row_cache.stamp_of(versions, row_cache.session_accounts(claims))
        state = row_cache.session_checks.get(claims.session_id, stamp)
        if state is row_cache.MISSING:
            state = check_session(claims.session_id)
            row_cache.session_checks.put(claims.session_id, stamp, state)
        return role_session_identity(claims, state)

    def key_owner_identity(self, versions: dict[str, Any]) -> Identity:
        access_key = self.access_key
        if access_key is None:
            stamp = row_cache.stamp_of(versions, [self.account_id])
            access_key = row_cache.access_keys.get(self.access_key_id, stamp)
            if access_key is row_cache.MISSING:
                access_key = load_access_key(self.access_key_id)
                row_cache.access_keys.put(self.access_key_id, stamp, access_key)
            access_key = usable(access_key)
        elif usable(access_key).user is not None:
            # Verified now: later requests with this key are verified before any read.
            secret = row_cache.KeySecret(access_key.user.account_id, access_key.secret_ciphertext)
            row_cache.key_secrets.put(access_key.access_key_id, secret)
        touch(access_key, self.now)
        if access_key.service is not None:
            return Identity(kind=IdentityKind.SERVICE, account_id="", service=access_key.service)
        assert access_key.user is not None
        identity = identity_for_user(access_key.user)
        remember_revision(identity, access_key.user.account)
        return identity


def touch(access_key: AccessKey, now: datetime) -> None:
    """Record the key's last use, at most once a minute."""
    if access_key.last_used is None or access_key.last_used < now - ACCESS_KEY_TOUCH_INTERVAL:
        AccessKey.objects.filter(pk=access_key.pk).update(last_used=now)
        access_key.last_used = now  # the row may be reused (``sts.row_cache``)


def role_session_identity(claims: RoleTokenClaims, state: SessionState) -> Identity:
    if not state.active:
        raise errors.ServiceError(
            "InvalidSecurityToken.Revoked",
            f"Specified SecurityToken was revoked: {state.revoked_reason}.",
            http_status=403,
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


# --- the path -----------------------------------------------------------------------------------


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


class Answer:
    """What the path found out so far, for the error answers."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.request_id = new_request_id()
        self.host = request.META.get("HTTP_HOST", "")
        self.format = "json"
        self.action = ""
        self.identity: Identity | None = None


def api_entry(request: HttpRequest) -> HttpResponse:
    """The API speaks English whatever the request's Accept-Language, as Alibaba's does: SDK users
    search for its messages."""
    with translation.override("en"):
        response = api_answer(request)
    response.headers["Content-Language"] = "en"
    return response


def api_answer(request: HttpRequest) -> HttpResponse:
    answer = Answer(request)
    try:
        return answered(request, answer)
    except errors.ServiceError as error:
        return refused(answer, error)
    except (BadRequest, SuspiciousOperation) as error:
        # Django refused to read the request (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, say).
        unreadable = errors.InvalidParameter(
            "InvalidParameter",
            f"The request could not be read: {error}",
            http_status=413 if isinstance(error, RequestDataTooBig) else 400,
        )
        return rpc.render_error(unreadable, answer.format, answer.request_id, answer.host)
    except Exception as unexpected:
        if errors.database_busy(unexpected):
            # A lost race for a database lock: the action's transaction changed nothing.
            logger.warning("API request %s: database busy (%s)", answer.request_id, unexpected)
            busy = errors.ServiceUnavailable("ServiceUnavailable", errors.BUSY_MESSAGE)
            return rpc.render_error(busy, answer.format, answer.request_id, answer.host)
        logger.exception("API request %s failed", answer.request_id)
        error = errors.ServiceError("InternalError", "An internal error occurred.", http_status=500)
        return rpc.render_error(error, answer.format, answer.request_id, answer.host)


def answered(request: HttpRequest, answer: Answer) -> HttpResponse:
    signed = signed_request_from(request)
    answer.format = requested_format(signed)
    answer.action = requested_action(signed)
    now = timezone.now()
    anonymous = anonymous_action(signed)
    if anonymous is not None:
        return answered_anonymously(request, answer, signed, anonymous, now)
    credential = Credential(signed, now)
    verified = verify(signed, credential.secret_for, now=now)
    action = rpc.ACTIONS.get((verified.api_version, verified.action))
    accounts = credential.accounts()
    if action is not None and action.depends_on is not None:
        accounts = sorted({*accounts, *action.depends_on(verified.params)})
    versions = nonce_store().spend(verified.access_key_id, verified.nonce, now, accounts)
    action = rpc.registered(verified.api_version, verified.action)  # spent even if unknown
    answer.identity = identity = credential.identity(versions)
    call = rpc.Call(
        identity=identity,
        params=verified.params,
        actor=api_actor(request, identity, answer.request_id),
        context=request_context(request, now),
        action=verified.action,
        versions=versions,
    )
    body = {"RequestId": answer.request_id, **action.handler(call)}
    return rpc.render_body(body, answer.format, verified.action, 200)


def anonymous_action(signed: SignedRequest) -> rpc.Action | None:
    """The action of an unsigned request, if it is one that is called without an access key."""
    if detect_signature_version(signed) is not None:
        return None
    version = requested(signed, "Version") or signed.headers.get("x-acs-version", "")
    action = rpc.ACTIONS.get((version, requested_action(signed)))
    return action if action is not None and action.anonymous else None


def answered_anonymously(
    request: HttpRequest, answer: Answer, signed: SignedRequest, action: rpc.Action, now: datetime
) -> HttpResponse:
    """AssumeRoleWithSAML/OIDC: no key, no nonce to spend; the assertion or token proves who
    calls (and an assertion is single-use, ``sts.federation``)."""
    timestamp = requested(signed, "Timestamp")
    if timestamp:
        check_timestamp(timestamp, now, MAX_CLOCK_SKEW)
    call = rpc.Call(
        identity=None,
        params=business_params(signed),
        actor=api_actor(request, None, answer.request_id),
        context=request_context(request, now),
        action=answer.action,
    )
    body = {"RequestId": answer.request_id, **action.handler(call)}
    return rpc.render_body(body, answer.format, answer.action, 200)


def refused(answer: Answer, error: errors.ServiceError) -> HttpResponse:
    identity = answer.identity
    if isinstance(error, AccessDenied):
        audit_denial(answer, error)
        error.detail = rpc.access_denied_detail(identity, error)
    elif getattr(error, "explanation", "") and error.http_status == 403 and not error.detail:
        error.detail = {
            "AuthAction": getattr(error, "action", ""),
            "AuthResource": getattr(error, "resource", ""),
            "AuthPrincipalDisplayName": identity.arn if identity else "",
            "NoPermissionType": "ImplicitDeny",
            "Explanation": error.explanation,  # type: ignore[attr-defined]
        }
    return rpc.render_error(error, answer.format, answer.request_id, answer.host)


def audit_denial(answer: Answer, denied: AccessDenied) -> None:
    identity = answer.identity
    owner = denied.resource.split(":")[3] if denied.resource.count(":") >= 4 else ""
    record(
        api_actor(answer.request, identity, answer.request_id),
        denied.action,
        denied.resource,
        account_id=owner or (identity.account_id if identity else ""),
        result=AuditEvent.Result.FAILURE,
        error_code="NoPermission",
        details={"ApiAction": answer.action, "explanation": denied.explanation},
    )
