"""STS 2015-04-01 actions: AssumeRole, AssumeRoleWithSAML, AssumeRoleWithOIDC and
GetCallerIdentity."""

from __future__ import annotations

from typing import Any

from iam.arns import ROLE_ARN_RE
from iam.identity import IdentityKind
from iam.rpc import Call, action, iso
from sts.assume import AssumeRoleInput, IssuedRoleSession, assume_role
from sts.federation import assume_role_with_oidc, assume_role_with_saml

STS_VERSION = "2015-04-01"


def role_account(params: dict[str, str]) -> list[str]:
    """AssumeRole's answer depends on the target role's account too."""
    match = ROLE_ARN_RE.match(params.get("RoleArn", ""))
    return [match.group(1)] if match else []


@action(STS_VERSION, "AssumeRole", depends_on=role_account)
def assume_role_action(call: Call) -> dict[str, Any]:
    request = AssumeRoleInput(
        role_arn=call.param("RoleArn", required=True) or "",
        session_name=call.param("RoleSessionName", required=True) or "",
        duration_seconds=call.param("DurationSeconds"),
        policy=call.param("Policy"),
        external_id=call.param("ExternalId"),
        source_identity=call.param("SourceIdentity"),
    )
    assert call.identity is not None
    issued = assume_role(
        call.identity,
        request,
        actor=call.actor,
        context=call.context,
        versions=call.versions,
    )
    body = credentials_body(issued)
    if request.source_identity:
        body["SourceIdentity"] = request.source_identity
    return body


def credentials_body(issued: IssuedRoleSession) -> dict[str, Any]:
    return {
        "AssumedRoleUser": {
            "Arn": issued.assumed_role_arn,
            "AssumedRoleId": issued.assumed_role_id,
        },
        "Credentials": {
            "AccessKeyId": issued.access_key_id,
            "AccessKeySecret": issued.access_key_secret,
            "SecurityToken": issued.security_token,
            "Expiration": iso(issued.expiration),
        },
    }


@action(STS_VERSION, "AssumeRoleWithSAML", anonymous=True)
def assume_role_with_saml_action(call: Call) -> dict[str, Any]:
    signed_in = assume_role_with_saml(
        provider_arn=call.param("SAMLProviderArn", required=True) or "",
        role_arn=call.param("RoleArn", required=True) or "",
        encoded_response=call.param("SAMLAssertion", required=True) or "",
        duration_seconds=call.param("DurationSeconds"),
        policy=call.param("Policy"),
        actor=call.actor,
        context=call.context,
    )
    assertion = signed_in.assertion
    return {
        **credentials_body(signed_in.issued),
        "SAMLAssertionInfo": {
            "SubjectType": assertion.subject_type,
            "Subject": assertion.subject,
            "Recipient": assertion.recipient,
            "Issuer": assertion.issuer,
        },
    }


@action(STS_VERSION, "AssumeRoleWithOIDC", anonymous=True)
def assume_role_with_oidc_action(call: Call) -> dict[str, Any]:
    signed_in = assume_role_with_oidc(
        provider_arn=call.param("OIDCProviderArn", required=True) or "",
        role_arn=call.param("RoleArn", required=True) or "",
        token=call.param("OIDCToken", required=True) or "",
        session_name=call.param("RoleSessionName"),
        duration_seconds=call.param("DurationSeconds"),
        policy=call.param("Policy"),
        actor=call.actor,
        context=call.context,
    )
    token = signed_in.token
    return {
        **credentials_body(signed_in.issued),
        "OIDCTokenInfo": {
            "Subject": token.subject,
            "Issuer": token.issuer,
            "ClientIds": token.audience,
            "IssuanceTime": iso(token.issued_at),
            "ExpirationTime": iso(token.expires_at),
            "VerificationInfo": "Success",
        },
    }


@action(STS_VERSION, "GetCallerIdentity")
def get_caller_identity(call: Call) -> dict[str, Any]:
    identity = call.identity
    assert identity is not None
    body: dict[str, Any] = {"AccountId": identity.account_id, "Arn": identity.arn}
    if identity.kind is IdentityKind.ROOT:
        body.update(IdentityType="Account", PrincipalId=identity.account_id)
    elif identity.kind is IdentityKind.USER:
        assert identity.user is not None
        body.update(
            IdentityType="RAMUser", PrincipalId=identity.user.user_id, UserId=identity.user.user_id
        )
    elif identity.kind is IdentityKind.ROLE_SESSION:
        assert identity.role is not None and identity.session is not None
        body.update(
            IdentityType="AssumedRoleUser",
            PrincipalId=f"{identity.role.role_id}:{identity.session.session_name}",
            RoleId=identity.role.role_id,
        )
        if identity.session.source_identity:
            body["SourceIdentity"] = identity.session.source_identity
    else:
        assert identity.service is not None
        body.update(IdentityType="Service", PrincipalId=identity.service.name)
    return body
