"""Federation: a user an identity provider vouches for assumes a role of the provider's account.

``assume_role_with_saml`` (a SAML response, from ``AssumeRoleWithSAML`` or posted by the browser
to our ACS) and ``assume_role_with_oidc`` (an ID token) first prove who the caller is with the
provider's own checks (``sts.saml``, ``sts.oidc``), then hand the caller to AssumeRole's one code
path (``sts.assume.assume_role``) as a federated identity: no identity policies to consult, the
role's trust policy decides with the ``saml:*`` / ``oidc:*`` condition keys, and the session is a
role session like any other (listed, revocable, audited as ``<provider ARN>/<subject>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from iam import errors
from iam.arns import FEDERATED_PRINCIPAL_PATTERN, OIDC_PROVIDER, SAML_PROVIDER
from iam.audit import Actor, record
from iam.identity import FederatedInfo, Identity, IdentityKind
from iam.models import OIDCProvider, SAMLProvider
from sts import oidc, saml
from sts.assume import SESSION_NAME_RE, AssumeRoleInput, IssuedRoleSession, assume_role
from sts.models import RoleSession, UsedAssertion

SAML_ACTION = "sts:AssumeRoleWithSAML"
OIDC_ACTION = "sts:AssumeRoleWithOIDC"


@dataclass(frozen=True)
class SamlSignIn:
    issued: IssuedRoleSession
    assertion: saml.VerifiedAssertion
    provider: SAMLProvider


@dataclass(frozen=True)
class OidcSignIn:
    issued: IssuedRoleSession
    token: oidc.VerifiedToken
    provider: OIDCProvider


def provider_name(arn: str, kind: str, parameter: str) -> tuple[str, str]:
    """(account id, provider name) of a ``SAMLProviderArn`` / ``OIDCProviderArn``."""
    match = FEDERATED_PRINCIPAL_PATTERN.fullmatch(arn or "")
    if match is None or match["kind"] != kind:
        raise errors.InvalidParameter(
            f"InvalidParameter.{parameter}", f"The parameter {parameter} is wrongly formed."
        )
    return match["account"], match["name"]


def find_saml_provider(arn: str) -> SAMLProvider:
    """The provider the request names. Missing, it is answered as a signature that does not
    verify (after the checks that need no provider), so anonymous callers cannot list other
    accounts' providers."""
    account_id, name = provider_name(arn, SAML_PROVIDER, "SAMLProviderArn")
    provider = SAMLProvider.objects.filter(account_id=account_id, name__iexact=name).first()
    if provider is None:
        raise saml.not_signed_by_provider()
    return provider


def find_oidc_provider(arn: str) -> OIDCProvider:
    """As ``find_saml_provider``: a missing provider is a signature that does not verify."""
    account_id, name = provider_name(arn, OIDC_PROVIDER, "OIDCProviderArn")
    provider = OIDCProvider.objects.filter(account_id=account_id, name__iexact=name).first()
    if provider is None:
        raise oidc.invalid_signature()
    return provider


def federated_caller(provider: SAMLProvider | OIDCProvider, kind: str, subject: str) -> Identity:
    return Identity(
        kind=IdentityKind.FEDERATED,
        account_id=provider.account_id,
        federated=FederatedInfo(provider.arn, kind, provider.name, subject),
    )


def federated_actor(actor: Actor, caller: Identity) -> Actor:
    """The audit trail's who: ``<provider ARN>/<subject>``, in the provider's account."""
    return actor.with_request(
        logon_arn=caller.arn,
        effective_arn=caller.arn,
        account_id=caller.account_id,
        source_account_id=caller.account_id,
    )


def audit_refusal(
    actor: Actor, action: str, provider: SAMLProvider | OIDCProvider, error: errors.ServiceError
) -> None:
    """A refused assertion or token goes to the trail of the provider's account."""
    record(
        actor.with_request(account_id=provider.account_id),
        action,
        provider.arn,
        account_id=provider.account_id,
        result="Failure",
        error_code=error.code,
        details={"explanation": error.message},
    )


# --- SAML -----------------------------------------------------------------------------------------


def verified_assertion(
    provider: SAMLProvider, encoded: str, *, actor: Actor
) -> saml.VerifiedAssertion:
    try:
        return saml.verify_response(
            encoded,
            entity_id=provider.entity_id,
            certificates=provider.certificates,
            now=timezone.now(),
        )
    except errors.AuthenticationFailed as error:
        audit_refusal(actor, SAML_ACTION, provider, error)
        raise


def spend_assertion(provider: SAMLProvider, assertion: saml.VerifiedAssertion) -> None:
    """Each assertion is usable once, until it expires."""
    UsedAssertion.objects.filter(expires__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(
                provider_arn=provider.arn,
                assertion_id=assertion.assertion_id[:256],
                expires=assertion.not_on_or_after,
            )
    except IntegrityError:
        raise saml.refused("Replayed", "This SAML assertion has been used already.") from None


def session_name_of(assertion: saml.VerifiedAssertion) -> str:
    if not SESSION_NAME_RE.match(assertion.session_name):
        raise saml.refused(
            "Invalid",
            "The RoleSessionName attribute is missing or wrongly formed (2-64 characters: "
            "letters, digits, '.', '@', '_', '-').",
        )
    return assertion.session_name


def assume_role_with_saml(
    *,
    provider_arn: str,
    role_arn: str,
    encoded_response: str,
    actor: Actor,
    context: dict[str, Any],
    duration_seconds: str | None = None,
    policy: str | None = None,
    channel: str = RoleSession.Channel.API,
    provider: SAMLProvider | None = None,
    assertion: saml.VerifiedAssertion | None = None,
) -> SamlSignIn:
    """AssumeRoleWithSAML. The console's ACS verifies and spends the response first (to offer
    the roles it names) and passes ``provider`` and ``assertion`` in."""
    spent = provider is not None and assertion is not None
    if provider is None or assertion is None:
        provider_name(provider_arn, SAML_PROVIDER, "SAMLProviderArn")
        saml.check_document(encoded_response)
        provider = find_saml_provider(provider_arn)
        assertion = verified_assertion(provider, encoded_response, actor=actor)
    if not any(
        claim.role_arn.lower() == role_arn.lower()
        and claim.provider_arn.lower() == provider.arn.lower()
        for claim in assertion.roles
    ):
        error = saml.refused(
            "RoleNotMatch",
            "The SAML assertion does not name this role with this identity provider.",
        )
        audit_refusal(actor, SAML_ACTION, provider, error)
        raise error
    session_name = session_name_of(assertion)
    if not spent:
        spend_assertion(provider, assertion)
    caller = federated_caller(provider, "saml", assertion.subject)
    issued = assume_role(
        caller,
        AssumeRoleInput(role_arn, session_name, duration_seconds, policy),
        actor=federated_actor(actor, caller),
        context={**context, **assertion.context},
        channel=channel,
        default_duration=assertion.session_duration or 3600,
        max_duration=assertion.session_duration,
        action=SAML_ACTION,
    )
    return SamlSignIn(issued, assertion, provider)


# --- OIDC -----------------------------------------------------------------------------------------


def session_name_from_subject(subject: str) -> str:
    """A RoleSessionName when the caller gives none: the subject, kept to the allowed
    characters."""
    kept = "".join(
        char for char in subject if char.isascii() and (char.isalnum() or char in ".@_-")
    )
    return kept[:64] if len(kept) >= 2 else "oidc-session"


def verified_token(provider: OIDCProvider, token: str, *, actor: Actor) -> oidc.VerifiedToken:
    """The token checked with the issuer's keys. Keys that cannot be fetched (the issuer is down,
    or presents a certificate without one of the provider's fingerprints) are answered as a
    signature that does not verify, as a missing provider is (``find_oidc_provider``): whether
    another account registered a provider of that name is not for an anonymous caller to learn.
    The provider's account reads the real reason in its trail."""
    try:
        return oidc.verify_token(token, provider, now=timezone.now())
    except errors.AuthenticationFailed as error:
        audit_refusal(actor, OIDC_ACTION, provider, error)
        if error.code == oidc.UNREACHABLE:
            raise oidc.invalid_signature() from None
        raise


def assume_role_with_oidc(
    *,
    provider_arn: str,
    role_arn: str,
    token: str,
    actor: Actor,
    context: dict[str, Any],
    session_name: str | None = None,
    duration_seconds: str | None = None,
    policy: str | None = None,
    channel: str = RoleSession.Channel.API,
    provider: OIDCProvider | None = None,
    verified: oidc.VerifiedToken | None = None,
) -> OidcSignIn:
    """AssumeRoleWithOIDC. Console sign-in verifies the ID token first and passes it in."""
    if provider is None or verified is None:
        provider_name(provider_arn, OIDC_PROVIDER, "OIDCProviderArn")
        oidc.token_header(token)
        provider = find_oidc_provider(provider_arn)
        verified = verified_token(provider, token, actor=actor)
    caller = federated_caller(provider, "oidc", verified.subject)
    issued = assume_role(
        caller,
        AssumeRoleInput(
            role_arn,
            session_name or session_name_from_subject(verified.subject),
            duration_seconds,
            policy,
        ),
        actor=federated_actor(actor, caller),
        context={**context, **verified.context},
        channel=channel,
        action=OIDC_ACTION,
    )
    return OidcSignIn(issued, verified, provider)
