"""AssumeRoleWithOIDC through the official SDK, with ID tokens issued by a real OpenID Provider
(the npm package oidc-provider over HTTPS, ``tests.idp.oidc_fixtures``) after its own login and
consent pages."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_tea_openapi.exceptions import ClientException
from django.utils import timezone

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, AuditEvent, Role
from sts import oidc
from sts.models import RoleSession
from tests.api import sdk
from tests.api.conftest import system_policy
from tests.api.test_federation_saml import anonymous_sts


@dataclass
class Federation:
    endpoint: str
    account: Account
    provider: providers.OIDCProvider  # type: ignore[name-defined]
    role: Role
    idp: object


def oidc_trust(provider_arn: str, audience: str = "ram-console", **more: str) -> str:
    condition = {"StringEquals": {"oidc:aud": audience, **more}}
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [provider_arn]},
        "Condition": condition,
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture(autouse=True)
def fresh_keys() -> None:
    oidc.forget_keys()


@pytest.fixture
def federation(live_server, transactional_db, oidc_idp) -> Federation:  # type: ignore[no-untyped-def]
    from iam.system_policies import ensure_system_policies

    ensure_system_policies()
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account,
        "corp-oidc",
        issuer_url=oidc_idp.issuer,
        client_ids="ram-console,ram-console-es256",
        fingerprints=oidc_idp.fingerprint,
    )
    role = services.create_role(
        SYSTEM_ACTOR, account, "app-reader", trust_policy=oidc_trust(provider.arn)
    )
    services.attach_policy(SYSTEM_ACTOR, role, system_policy("AliyunRAMReadOnlyAccess"))
    return Federation(live_server.url.removeprefix("http://"), account, provider, role, oidc_idp)


def call(federation: Federation, token: str, **extra):  # type: ignore[no-untyped-def]
    request = sts_models.AssumeRoleWithOIDCRequest(
        oidcprovider_arn=extra.pop("provider_arn", federation.provider.arn),
        role_arn=extra.pop("role_arn", federation.role.arn),
        oidctoken=token,
        **extra,
    )
    return anonymous_sts(federation.endpoint).assume_role_with_oidc(request).body


def refused_code(federation: Federation, token: str, **extra) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as raised:
        call(federation, token, **extra)
    return raised.value.code, raised.value.status_code


def test_an_id_token_buys_role_credentials_usable_as_the_role(federation) -> None:  # type: ignore[no-untyped-def]
    token = federation.idp.id_token("alice")

    body = call(federation, token, role_session_name="alice-app", duration_seconds=900)

    info = body.oidctoken_info
    assert (info.subject, info.issuer, info.client_ids) == (
        "alice",
        federation.idp.issuer,
        "ram-console",
    )
    assert info.issuance_time and info.expiration_time
    assert body.assumed_role_user.arn == f"{federation.role.arn}/alice-app"
    caller = sdk.sts(
        federation.endpoint,
        body.credentials.access_key_id,
        body.credentials.access_key_secret,
        body.credentials.security_token,
    ).get_caller_identity()
    assert caller.body.arn.endswith(":assumed-role/app-reader/alice-app")
    session = RoleSession.objects.get(role=federation.role)
    assert session.source_identity == f"{federation.provider.arn}/alice"
    assert session.expires - session.issued == timedelta(seconds=900)
    event = AuditEvent.objects.get(action="sts:AssumeRoleWithOIDC", result="Success")
    assert event.logon_identity == f"{federation.provider.arn}/alice"


def test_an_es256_token_is_accepted(federation) -> None:  # type: ignore[no-untyped-def]
    services.update_role(
        SYSTEM_ACTOR,
        federation.role,
        trust_policy=oidc_trust(federation.provider.arn, "ram-console-es256"),
    )
    token = federation.idp.id_token("alice", client_id="ram-console-es256")
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == "ES256"

    body = call(federation, token)

    assert body.assumed_role_user.arn == f"{federation.role.arn}/alice"


def test_the_trust_policy_decides_with_oidc_sub(federation) -> None:  # type: ignore[no-untyped-def]
    services.update_role(
        SYSTEM_ACTOR,
        federation.role,
        trust_policy=oidc_trust(federation.provider.arn, **{"oidc:sub": "bob"}),
    )

    assert refused_code(federation, federation.idp.id_token("alice")) == ("NoPermission", 403)
    assert call(federation, federation.idp.id_token("bob")).credentials.security_token


def test_a_token_for_an_unregistered_audience_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    providers.update_oidc_provider(SYSTEM_ACTOR, federation.provider, client_ids="another-app")

    code = refused_code(federation, federation.idp.id_token("alice"))

    assert code == ("AuthenticationFail.OIDCToken.AudienceNotMatch", 401)


def test_an_expired_token_and_one_past_the_issuance_limit_are_refused(federation) -> None:  # type: ignore[no-untyped-def]
    providers.update_oidc_provider(SYSTEM_ACTOR, federation.provider, issuance_limit_hours=1)
    token = federation.idp.id_token("alice")

    with time_machine.travel(timezone.now() + timedelta(minutes=70)):
        assert refused_code(federation, token) == ("AuthenticationFail.OIDCToken.Expired", 401)
    federation.provider.issuance_limit_hours = 1
    too_old = {"iss": federation.idp.issuer, "aud": "ram-console", "sub": "alice"}
    now = timezone.now().timestamp()
    with pytest.raises(Exception) as raised:
        oidc.check_claims(
            {**too_old, "iat": now - 3700, "exp": now + 60}, federation.provider, timezone.now()
        )
    assert raised.value.code == "AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded"


def test_a_forged_signature_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    header, payload, signature = federation.idp.id_token("alice").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    code = refused_code(federation, f"{header}.{forged}.{signature}")

    assert code == ("AuthenticationFail.OIDCToken.InvalidSignature", 401)


def unsigned(alg: str, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_and_hmac_are_refused(federation) -> None:  # type: ignore[no-untyped-def]
    claims = {"iss": federation.idp.issuer, "aud": "ram-console", "sub": "alice"}

    for alg in ("none", "HS256"):
        code = refused_code(federation, unsigned(alg, claims))
        assert code == ("AuthenticationFail.OIDCToken.Invalid", 401)
    assert not RoleSession.objects.exists()


def test_a_wrong_fingerprint_means_the_issuer_is_not_trusted(federation) -> None:  # type: ignore[no-untyped-def]
    providers.update_oidc_provider(SYSTEM_ACTOR, federation.provider, fingerprints="0" * 40)

    code = refused_code(federation, federation.idp.id_token("alice"))

    # To the caller, as a signature that does not verify (a missing provider answers the same);
    # the provider's account reads the real reason in its trail.
    assert code == ("AuthenticationFail.OIDCToken.InvalidSignature", 401)
    failure = AuditEvent.objects.get(action="sts:AssumeRoleWithOIDC", result="Failure")
    assert failure.error_code == "AuthenticationFail.OIDCToken.HttpsUrlInvalid"
    assert failure.account_id == federation.account.pk


def test_rotated_keys_are_fetched_on_an_unknown_kid(federation, oidc_idp_factory) -> None:  # type: ignore[no-untyped-def]
    idp = oidc_idp_factory()
    provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        federation.account,
        "rotating",
        issuer_url=idp.issuer,
        client_ids="ram-console",
        fingerprints=idp.fingerprint,
    )
    role = services.create_role(
        SYSTEM_ACTOR, federation.account, "rotating", trust_policy=oidc_trust(provider.arn)
    )
    assert call(federation, idp.id_token("alice"), provider_arn=provider.arn, role_arn=role.arn)

    idp.rotate_keys()
    time.sleep(oidc.JWKS_MIN_REFRESH)  # an issuer's keys are fetched at most this often
    body = call(federation, idp.id_token("alice"), provider_arn=provider.arn, role_arn=role.arn)

    assert body.credentials.security_token


def test_an_unknown_provider_and_garbage_are_refused(federation) -> None:  # type: ignore[no-untyped-def]
    arn = f"acs:ram::{federation.account.pk}:oidc-provider/nobody"
    token = federation.idp.id_token("alice")

    assert refused_code(federation, token, provider_arn=arn) == (
        "AuthenticationFail.OIDCToken.InvalidSignature",
        401,
    )
    assert refused_code(federation, "a.b") == ("AuthenticationFail.OIDCToken.Invalid", 401)
    assert refused_code(federation, token, provider_arn="not-an-arn")[0] == (
        "InvalidParameter.OIDCProviderArn"
    )


def test_a_provider_vouches_only_for_its_own_accounts_roles(federation) -> None:  # type: ignore[no-untyped-def]
    other = services.create_account(SYSTEM_ACTOR, "other", email="root@other.example")
    foreign = services.create_role(
        SYSTEM_ACTOR, other, "open", trust_policy=oidc_trust(federation.provider.arn)
    )

    code = refused_code(federation, federation.idp.id_token("alice"), role_arn=foreign.arn)

    assert code == ("NoPermission", 403)


def test_a_session_policy_narrows_the_federated_session(federation) -> None:  # type: ignore[no-untyped-def]
    only_who_am_i = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}],
        }
    )
    body = call(federation, federation.idp.id_token("alice"), policy=only_who_am_i)
    ram = sdk.ram(
        federation.endpoint,
        body.credentials.access_key_id,
        body.credentials.access_key_secret,
        body.credentials.security_token,
    )

    with pytest.raises(ClientException) as raised:
        ram.list_roles(sdk.ram_models.ListRolesRequest())

    assert raised.value.code == "NoPermission"


def test_claims_are_checked_one_by_one(federation) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now().timestamp()
    good = {
        "iss": federation.idp.issuer,
        "aud": "ram-console",
        "sub": "alice",
        "iat": now,
        "exp": now + 600,
    }
    cases = {
        "IssuerNotMatch": {**good, "iss": "https://other.example"},
        "AudienceNotMatch": {**good, "aud": ["x", "y"]},
        "NotYetValid": {**good, "nbf": now + 600},
        "Invalid": {**good, "iat": now + 600},
    }
    for problem, claims in cases.items():
        with pytest.raises(Exception) as raised:
            oidc.check_claims(claims, federation.provider, timezone.now())
        assert raised.value.code == f"AuthenticationFail.OIDCToken.{problem}"
    assert oidc.check_claims(good, federation.provider, timezone.now()).audience == "ram-console"
