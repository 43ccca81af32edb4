"""AssumeRoleWithSAML through the official SDK, with assertions issued by a real SAML IdP
(pysaml2, ``tests.idp.saml``) that a user signs in to with its own login form."""

from __future__ import annotations

import base64
import json
from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from django.utils import timezone
from lxml import etree

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, AuditEvent, Role
from sts import saml
from sts.models import RoleSession
from tests.api import sdk
from tests.api.conftest import system_policy

PASSWORD = "idp-pass-1"


@dataclass
class Federation:
    endpoint: str
    account: Account
    provider_arn: str
    role: Role
    idp: object

    @property
    def role_value(self) -> str:
        return f"{self.role.arn},{self.provider_arn}"


def anonymous_sts(endpoint: str) -> StsClient:
    return StsClient(Config(endpoint=endpoint, protocol="HTTP", read_timeout=20000))


def saml_trust(provider_arn: str, condition: dict | None = None) -> str:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [provider_arn]},
        "Condition": condition or {"StringEquals": {"saml:recipient": saml.acs_url()}},
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture
def federation(live_server, transactional_db, settings, saml_idp_factory) -> Federation:  # type: ignore[no-untyped-def]
    from iam.system_policies import ensure_system_policies

    ensure_system_policies()
    settings.SITE_URL = live_server.url
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    idp = saml_idp_factory(saml.sp_entity_id(), saml.acs_url())
    provider = providers.create_saml_provider(
        SYSTEM_ACTOR, account, "corp-idp", metadata=idp.metadata_xml
    )
    role = services.create_role(
        SYSTEM_ACTOR, account, "sso-admin", trust_policy=saml_trust(provider.arn)
    )
    services.attach_policy(SYSTEM_ACTOR, role, system_policy("AliyunRAMReadOnlyAccess"))
    federation = Federation(
        live_server.url.removeprefix("http://"), account, provider.arn, role, idp
    )
    idp.add_user(
        "alice",
        PASSWORD,
        [federation.role_value],
        session_name="alice@corp.example",
    )
    return federation


def call(federation: Federation, response: str, **extra):  # type: ignore[no-untyped-def]
    request = sts_models.AssumeRoleWithSAMLRequest(
        samlprovider_arn=extra.pop("provider_arn", federation.provider_arn),
        role_arn=extra.pop("role_arn", federation.role.arn),
        samlassertion=response,
        **extra,
    )
    return anonymous_sts(federation.endpoint).assume_role_with_saml(request).body


def refused_code(federation: Federation, response: str, **extra) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as raised:
        call(federation, response, **extra)
    return raised.value.code, raised.value.status_code


def test_a_signed_in_idp_user_gets_role_credentials_usable_as_the_role(federation) -> None:  # type: ignore[no-untyped-def]
    response = federation.idp.saml_response("alice", PASSWORD)

    body = call(federation, response, duration_seconds=1800)

    assert body.credentials.access_key_id.startswith("STS.")
    assert body.assumed_role_user.arn == f"{federation.role.arn}/alice@corp.example"
    info = body.samlassertion_info
    assert (info.subject, info.issuer, info.recipient) == (
        "alice",
        federation.idp.entity_id,
        saml.acs_url(),
    )
    assert info.subject_type.endswith(":persistent")
    caller = sdk.sts(
        federation.endpoint,
        body.credentials.access_key_id,
        body.credentials.access_key_secret,
        body.credentials.security_token,
    ).get_caller_identity()
    assert caller.body.arn.endswith(":assumed-role/sso-admin/alice@corp.example")
    session = RoleSession.objects.get(role=federation.role)
    assert session.source_identity == f"{federation.provider_arn}/alice"
    assert session.expires - session.issued == timedelta(seconds=1800)
    event = AuditEvent.objects.get(action="sts:AssumeRoleWithSAML", result="Success")
    assert event.logon_identity == f"{federation.provider_arn}/alice"
    assert event.account_id == federation.account.pk


def test_each_assertion_is_usable_once(federation) -> None:  # type: ignore[no-untyped-def]
    response = federation.idp.saml_response("alice", PASSWORD)
    call(federation, response)

    assert refused_code(federation, response) == ("AuthenticationFail.SAMLAssertion.Replayed", 401)


def test_a_response_signed_as_a_whole_is_accepted_too(federation) -> None:  # type: ignore[no-untyped-def]
    federation.idp.sign_assertion = False
    federation.idp.sign_response = True

    body = call(federation, federation.idp.saml_response("alice", PASSWORD))

    assert body.credentials.security_token


def test_an_unsigned_assertion_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    federation.idp.sign_assertion = False
    federation.idp.sign_response = False

    code = refused_code(federation, federation.idp.saml_response("alice", PASSWORD))

    assert code == ("AuthenticationFail.SAMLAssertion.Invalid", 401)
    assert not RoleSession.objects.exists()


def decoded(response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(response))


def encoded(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def test_signature_wrapping_with_a_second_unsigned_assertion_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    """XSW: an attacker keeps the signed assertion and adds a forged one beside it, naming a
    role of their choosing and another subject."""
    root = decoded(federation.idp.saml_response("alice", PASSWORD))
    signed = root.find(f"{{{saml.SAML}}}Assertion")
    forged = deepcopy(signed)
    forged.set("ID", "forged-1")
    for signature in forged.findall(f"{{{saml.DS}}}Signature"):
        forged.remove(signature)
    forged.find(f"{{{saml.SAML}}}Subject/{{{saml.SAML}}}NameID").text = "mallory"
    root.insert(list(root).index(signed), forged)

    assert refused_code(federation, encoded(root)) == (
        "AuthenticationFail.SAMLAssertion.Invalid",
        401,
    )


def test_a_tampered_signed_assertion_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    root = decoded(federation.idp.saml_response("alice", PASSWORD))
    root.find(f".//{{{saml.SAML}}}NameID").text = "mallory"

    code = refused_code(federation, encoded(root))

    assert code == ("AuthenticationFail.SAMLAssertion.InvalidSignature", 401)


def test_an_assertion_signed_by_another_idp_is_refused(federation, saml_idp_factory) -> None:  # type: ignore[no-untyped-def]
    impostor = saml_idp_factory(saml.sp_entity_id(), saml.acs_url())
    impostor.add_user("alice", PASSWORD, [federation.role_value], session_name="alice")

    code = refused_code(federation, impostor.saml_response("alice", PASSWORD))

    # Its issuer is its own entity id: the first check that fails is the signature.
    assert code == ("AuthenticationFail.SAMLAssertion.InvalidSignature", 401)


@pytest.mark.parametrize(
    ("sp_entity_id", "acs", "problem"),
    [
        ("https://someone-else.example/sp", None, "AudienceNotMatch"),
        (None, "https://someone-else.example/acs", "RecipientNotMatch"),
    ],
)
def test_an_assertion_for_another_service_provider_is_refused(  # type: ignore[no-untyped-def]
    federation, saml_idp_factory, sp_entity_id, acs, problem
) -> None:
    idp = federation.idp
    idp.configure_sp(sp_entity_id or saml.sp_entity_id(), acs or saml.acs_url())

    code = refused_code(
        federation,
        idp.saml_response("alice", PASSWORD, sp_entity_id=sp_entity_id or saml.sp_entity_id()),
    )

    assert code == (f"AuthenticationFail.SAMLAssertion.{problem}", 401)


def test_an_expired_assertion_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    response = federation.idp.saml_response("alice", PASSWORD)

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        code = refused_code(federation, response)

    assert code == ("AuthenticationFail.SAMLAssertion.Expired", 401)


def test_the_role_must_be_named_in_the_assertion(federation) -> None:  # type: ignore[no-untyped-def]
    other = services.create_role(
        SYSTEM_ACTOR,
        federation.account,
        "other",
        trust_policy=saml_trust(federation.provider_arn),
    )

    code = refused_code(
        federation, federation.idp.saml_response("alice", PASSWORD), role_arn=other.arn
    )

    assert code == ("AuthenticationFail.SAMLAssertion.RoleNotMatch", 401)


def test_the_trust_policy_decides_with_saml_condition_keys(federation) -> None:  # type: ignore[no-untyped-def]
    condition = {"StringEquals": {"saml:recipient": saml.acs_url(), "saml:sub": "bob"}}
    services.update_role(
        SYSTEM_ACTOR, federation.role, trust_policy=saml_trust(federation.provider_arn, condition)
    )

    code = refused_code(federation, federation.idp.saml_response("alice", PASSWORD))

    assert code == ("NoPermission", 403)
    failure = AuditEvent.objects.get(action="sts:AssumeRoleWithSAML", result="Failure")
    assert failure.details["reason"] == "trust"


def test_an_unknown_provider_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    arn = f"acs:ram::{federation.account.pk}:saml-provider/nobody"

    code = refused_code(
        federation, federation.idp.saml_response("alice", PASSWORD), provider_arn=arn
    )

    # As for an assertion the provider did not sign: no list of providers for anonymous callers.
    assert code == ("AuthenticationFail.SAMLAssertion.InvalidSignature", 401)


def test_a_session_duration_attribute_caps_the_session(federation) -> None:  # type: ignore[no-untyped-def]
    federation.idp.users["alice"]["session_duration"] = 900

    body = call(federation, federation.idp.saml_response("alice", PASSWORD))

    session = RoleSession.objects.get(access_key_id=body.credentials.access_key_id)
    assert session.expires - session.issued == timedelta(seconds=900)


def test_garbage_is_refused_with_a_clear_code(federation) -> None:  # type: ignore[no-untyped-def]
    assert refused_code(federation, "not base64!") == (
        "AuthenticationFail.SAMLAssertion.Invalid",
        401,
    )
    doctype = base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').decode()
    assert refused_code(federation, doctype) == ("AuthenticationFail.SAMLAssertion.Invalid", 401)
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x y="&a;"/>'
    wide = base64.b64encode(utf16.encode("utf-16")).decode()
    assert refused_code(federation, wide) == ("AuthenticationFail.SAMLAssertion.Invalid", 401)


def test_an_assertion_not_yet_valid_is_refused(federation) -> None:  # type: ignore[no-untyped-def]
    response = federation.idp.saml_response("alice", PASSWORD)

    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        code = refused_code(federation, response)

    assert code == ("AuthenticationFail.SAMLAssertion.NotYetValid", 401)


def test_the_issuer_must_be_the_providers_entity_id(federation) -> None:  # type: ignore[no-untyped-def]
    """Same certificate, another entity id in the registered metadata: the IdP's own issuer no
    longer matches."""
    metadata = federation.idp.metadata_xml.replace(
        federation.idp.entity_id.encode(), b"https://other-idp.example/metadata"
    )
    provider = providers.find_saml_provider(federation.account.pk, "corp-idp")
    providers.update_saml_provider(SYSTEM_ACTOR, provider, metadata=metadata)

    code = refused_code(federation, federation.idp.saml_response("alice", PASSWORD))

    assert code == ("AuthenticationFail.SAMLAssertion.IssuerNotMatch", 401)


def test_the_role_session_name_attribute_is_required(federation) -> None:  # type: ignore[no-untyped-def]
    federation.idp.users["alice"]["session_name"] = None

    code = refused_code(federation, federation.idp.saml_response("alice", PASSWORD))

    assert code == ("AuthenticationFail.SAMLAssertion.Invalid", 401)


def test_a_federated_session_is_revoked_like_any_other(federation) -> None:  # type: ignore[no-untyped-def]
    body = call(federation, federation.idp.saml_response("alice", PASSWORD))
    client = sdk.sts(
        federation.endpoint,
        body.credentials.access_key_id,
        body.credentials.access_key_secret,
        body.credentials.security_token,
    )
    assert client.get_caller_identity().body.arn

    session = RoleSession.objects.get(access_key_id=body.credentials.access_key_id)
    services.revoke_role_session(SYSTEM_ACTOR, session)

    with pytest.raises(ClientException) as raised:
        client.get_caller_identity()
    assert raised.value.code == "InvalidSecurityToken.Revoked"
