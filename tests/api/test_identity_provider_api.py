"""The identity-provider actions (``iam.provider_api``) with the official IMS SDK
(``alibabacloud-ims20190815``) against a live server, and once in RAM's version with the legacy
SDK's ``CommonRequest``: round trips, Alibaba's error codes and statuses, other accounts' providers
never found, permissions."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_ims20190815 import models as ims_models
from alibabacloud_ims20190815.client import Client as ImsClient
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.request import CommonRequest

from iam import providers
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, OIDCProvider, SAMLProvider
from tests.api.conftest import Key, World
from tests.api.sdk import assume, config, legacy_call, sts
from tests.iam.test_providers import (
    FINGERPRINT,
    ISSUER,
    OTHER_FINGERPRINT,
    certificate,
    encoded,
    entity,
    key_descriptor,
    metadata,
)

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
SAML_FIELDS = {"SAMLProviderName", "Arn", "Description", "CreateDate", "UpdateDate"}
OIDC_FIELDS = {
    "OIDCProviderName",
    "Arn",
    "IssuerUrl",
    "ClientIds",
    "Fingerprints",
    "IssuanceLimitTime",
    "Description",
    "CreateDate",
    "UpdateDate",
    "GmtCreate",
    "GmtModified",
}


def ims(world: World, key: Key, token: str | None = None) -> ImsClient:
    cfg = config(world.endpoint, key.access_key_id, key.secret, token)
    cfg.region_id = "cn-hangzhou"
    return ImsClient(cfg)


def admin_a(world: World) -> ImsClient:
    return ims(world, world.admin_a_key)


def error_of(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value.status_code, caught.value.code


def create_saml(client: ImsClient, name: str = "okta", **extra: Any) -> Any:
    request = ims_models.CreateSAMLProviderRequest(
        samlprovider_name=name, encoded_samlmetadata_document=encoded(), **extra
    )
    return client.create_samlprovider(request).body


def create_oidc(client: ImsClient, name: str = "github", **extra: Any) -> Any:
    values = {
        "issuer_url": ISSUER,
        "client_ids": "sts.aliyuncs.com,app-1",
        "fingerprints": FINGERPRINT,
        **extra,
    }
    request = ims_models.CreateOIDCProviderRequest(oidcprovider_name=name, **values)
    return client.create_oidcprovider(request).body


def get_saml(client: ImsClient, name: str = "okta") -> Any:
    request = ims_models.GetSAMLProviderRequest(samlprovider_name=name)
    return client.get_samlprovider(request).body.samlprovider


def get_oidc(client: ImsClient, name: str = "github") -> Any:
    request = ims_models.GetOIDCProviderRequest(oidcprovider_name=name)
    return client.get_oidcprovider(request).body.oidcprovider


# --- SAML providers -----------------------------------------------------------------------------


def test_create_saml_provider_answers_in_alibabas_shape(world: World) -> None:
    body = create_saml(admin_a(world), "okta", description="corp IdP", authn_sign_algo="rsa-sha256")
    created = body.samlprovider.to_map()
    assert set(created) == SAML_FIELDS  # every field the SDK reads, none it would drop
    assert created["Arn"] == f"acs:ram::{world.company_a.pk}:saml-provider/okta"
    assert (created["Description"], ISO.fullmatch(created["CreateDate"]) is not None) == (
        "corp IdP",
        True,
    )


def test_get_saml_provider_hands_back_the_document(world: World) -> None:
    create_saml(admin_a(world))
    found = get_saml(admin_a(world), "OKTA")
    assert set(found.to_map()) == SAML_FIELDS | {"EncodedSAMLMetadataDocument"}
    assert base64.b64decode(found.encoded_samlmetadata_document) == metadata()


def test_list_saml_providers_pages_with_a_marker(world: World) -> None:
    client = admin_a(world)
    for name in ("b-idp", "a-idp", "c-idp"):
        create_saml(client, name)
    first = client.list_samlproviders(ims_models.ListSAMLProvidersRequest(max_items=2)).body
    assert [p.samlprovider_name for p in first.samlproviders.samlprovider] == ["a-idp", "b-idp"]
    assert first.is_truncated is True
    rest = client.list_samlproviders(ims_models.ListSAMLProvidersRequest(marker=first.marker)).body
    assert ([p.samlprovider_name for p in rest.samlproviders.samlprovider], rest.is_truncated) == (
        ["c-idp"],
        False,
    )
    assert set(rest.samlproviders.samlprovider[0].to_map()) == SAML_FIELDS


def test_update_saml_provider_replaces_metadata_and_description(world: World) -> None:
    client = admin_a(world)
    create_saml(client)
    document = metadata(entity("https://new.example.com", key_descriptor(certificate(30))))
    request = ims_models.UpdateSAMLProviderRequest(
        samlprovider_name="okta",
        new_encoded_samlmetadata_document=encoded(document),
        new_description="moved",
    )
    updated = client.update_samlprovider(request).body.samlprovider
    assert (set(updated.to_map()), updated.description) == (SAML_FIELDS, "moved")
    assert SAMLProvider.objects.get(name="okta").entity_id == "https://new.example.com"


def test_delete_saml_provider_then_it_is_not_found(world: World) -> None:
    client = admin_a(world)
    create_saml(client)
    client.delete_samlprovider(ims_models.DeleteSAMLProviderRequest(samlprovider_name="okta"))
    assert error_of(lambda: get_saml(client)) == (404, "EntityNotExist.SAMLProvider")


def test_a_taken_saml_provider_name_is_409(world: World) -> None:
    create_saml(admin_a(world), "okta")
    assert error_of(lambda: create_saml(admin_a(world), "Okta")) == (
        409,
        "EntityAlreadyExists.SAMLProvider",
    )


@pytest.mark.parametrize(
    "document",
    [
        "not base64!",
        encoded(metadata(entity(role="SPSSODescriptor"))),
        encoded(b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'),
    ],
)
def test_unusable_metadata_is_400(world: World, document: str) -> None:
    request = ims_models.CreateSAMLProviderRequest(
        samlprovider_name="okta", encoded_samlmetadata_document=document
    )
    assert error_of(lambda: admin_a(world).create_samlprovider(request)) == (
        400,
        "InvalidParameter.EncodedSAMLMetadataDocument",
    )
    assert not SAMLProvider.objects.exists()


def test_a_saml_provider_name_is_required(world: World) -> None:
    request = ims_models.CreateSAMLProviderRequest(encoded_samlmetadata_document=encoded())
    assert error_of(lambda: admin_a(world).create_samlprovider(request)) == (
        400,
        "MissingSAMLProviderName",
    )


# --- OIDC providers -----------------------------------------------------------------------------


def test_create_oidc_provider_answers_in_alibabas_shape(world: World) -> None:
    created = create_oidc(admin_a(world), issuance_limit_time=6, description="CI").oidcprovider
    assert set(created.to_map()) == OIDC_FIELDS
    assert (created.client_ids, created.fingerprints, created.issuance_limit_time) == (
        "sts.aliyuncs.com,app-1",
        FINGERPRINT,
        6,
    )
    assert created.arn == f"acs:ram::{world.company_a.pk}:oidc-provider/github"
    assert created.gmt_create.isdigit() and ISO.fullmatch(created.create_date)


def test_get_and_list_oidc_providers(world: World) -> None:
    client = admin_a(world)
    create_oidc(client, "github")
    create_oidc(client, "gitlab", issuer_url="https://gitlab.example.com")
    found = get_oidc(client, "GitHub")
    assert (set(found.to_map()), found.issuer_url) == (OIDC_FIELDS, ISSUER)
    listed = client.list_oidcproviders(ims_models.ListOIDCProvidersRequest()).body
    assert [p.oidcprovider_name for p in listed.oidcproviders.oidcprovider] == ["github", "gitlab"]
    assert (listed.is_truncated, listed.marker) == (False, None)


def test_update_oidc_provider_replaces_client_ids_limit_and_description(world: World) -> None:
    client = admin_a(world)
    create_oidc(client)
    request = ims_models.UpdateOIDCProviderRequest(
        oidcprovider_name="github",
        client_ids="app-7,app-8",
        issuance_limit_time=24,
        new_description="renewed",
    )
    updated = client.update_oidcprovider(request).body.oidcprovider
    assert (updated.client_ids, updated.issuance_limit_time, updated.description) == (
        "app-7,app-8",
        24,
        "renewed",
    )
    assert updated.fingerprints == FINGERPRINT


def test_client_ids_are_added_and_removed(world: World) -> None:
    client = admin_a(world)
    create_oidc(client)
    added = client.add_client_id_to_oidcprovider(
        ims_models.AddClientIdToOIDCProviderRequest(oidcprovider_name="github", client_id="app-2")
    ).body.oidcprovider
    assert (set(added.to_map()), added.client_ids) == (
        OIDC_FIELDS,
        "sts.aliyuncs.com,app-1,app-2",
    )
    removed = client.remove_client_id_from_oidcprovider(
        ims_models.RemoveClientIdFromOIDCProviderRequest(
            oidcprovider_name="github", client_id="app-1"
        )
    ).body.oidcprovider
    assert removed.client_ids == "sts.aliyuncs.com,app-2"


def test_fingerprints_are_added_and_removed(world: World) -> None:
    client = admin_a(world)
    create_oidc(client)
    added = client.add_fingerprint_to_oidcprovider(
        ims_models.AddFingerprintToOIDCProviderRequest(
            oidcprovider_name="github", fingerprint=OTHER_FINGERPRINT.upper()
        )
    ).body.oidcprovider
    assert (set(added.to_map()), added.fingerprints) == (
        OIDC_FIELDS,
        f"{FINGERPRINT},{OTHER_FINGERPRINT}",
    )
    removed = client.remove_fingerprint_from_oidcprovider(
        ims_models.RemoveFingerprintFromOIDCProviderRequest(
            oidcprovider_name="github", fingerprint=FINGERPRINT
        )
    ).body.oidcprovider
    assert removed.fingerprints == OTHER_FINGERPRINT


def test_delete_oidc_provider_then_it_is_not_found(world: World) -> None:
    client = admin_a(world)
    create_oidc(client)
    client.delete_oidcprovider(ims_models.DeleteOIDCProviderRequest(oidcprovider_name="github"))
    assert error_of(lambda: get_oidc(client)) == (404, "EntityNotExist.OIDCProvider")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"fingerprints": "not-a-sha1"}, (400, "InvalidParameter.Fingerprints")),
        ({"issuer_url": "http://issuer.example.com"}, (400, "InvalidParameter.IssuerUrl")),
        ({"issuer_url": "https://[::1"}, (400, "InvalidParameter.IssuerUrl")),
        ({"issuance_limit_time": 169}, (400, "InvalidParameter.IssuanceLimitTime")),
        (
            {"fingerprints": ",".join(f"{n:040x}" for n in range(6))},
            (409, "LimitExceeded.Fingerprints"),
        ),
    ],
)
def test_bad_oidc_input_gets_alibabas_code_and_status(
    world: World, values: dict[str, Any], expected: tuple[int, str]
) -> None:
    assert error_of(lambda: create_oidc(admin_a(world), **values)) == expected
    assert not OIDCProvider.objects.exists()


def test_a_bad_fingerprint_is_not_added(world: World) -> None:
    client = admin_a(world)
    create_oidc(client)
    request = ims_models.AddFingerprintToOIDCProviderRequest(
        oidcprovider_name="github", fingerprint="xyz"
    )
    assert error_of(lambda: client.add_fingerprint_to_oidcprovider(request)) == (
        400,
        "InvalidParameter.Fingerprints",
    )


def test_a_taken_oidc_provider_name_is_409(world: World) -> None:
    create_oidc(admin_a(world), "github")
    assert error_of(lambda: create_oidc(admin_a(world), "GITHUB")) == (
        409,
        "EntityAlreadyExists.OIDCProvider",
    )


# --- accounts and permissions -------------------------------------------------------------------


def providers_of_a(world: World) -> None:
    providers.create_saml_provider(SYSTEM_ACTOR, world.company_a, "okta", metadata=metadata())
    providers.create_oidc_provider(
        SYSTEM_ACTOR,
        world.company_a,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1",
        fingerprints=FINGERPRINT,
    )


SAML_CALLS: dict[str, Callable[[ImsClient], Any]] = {
    "GetSAMLProvider": lambda c: get_saml(c),
    "UpdateSAMLProvider": lambda c: c.update_samlprovider(
        ims_models.UpdateSAMLProviderRequest(samlprovider_name="okta", new_description="x")
    ),
    "DeleteSAMLProvider": lambda c: c.delete_samlprovider(
        ims_models.DeleteSAMLProviderRequest(samlprovider_name="okta")
    ),
}
OIDC_CALLS: dict[str, Callable[[ImsClient], Any]] = {
    "GetOIDCProvider": lambda c: get_oidc(c),
    "UpdateOIDCProvider": lambda c: c.update_oidcprovider(
        ims_models.UpdateOIDCProviderRequest(oidcprovider_name="github", new_description="x")
    ),
    "AddClientIdToOIDCProvider": lambda c: c.add_client_id_to_oidcprovider(
        ims_models.AddClientIdToOIDCProviderRequest(oidcprovider_name="github", client_id="x")
    ),
    "RemoveFingerprintFromOIDCProvider": lambda c: c.remove_fingerprint_from_oidcprovider(
        ims_models.RemoveFingerprintFromOIDCProviderRequest(
            oidcprovider_name="github", fingerprint=FINGERPRINT
        )
    ),
    "DeleteOIDCProvider": lambda c: c.delete_oidcprovider(
        ims_models.DeleteOIDCProviderRequest(oidcprovider_name="github")
    ),
}


@pytest.mark.parametrize("action", sorted(SAML_CALLS))
def test_another_accounts_admin_does_not_find_a_saml_provider(world: World, action: str) -> None:
    providers_of_a(world)
    root_b = ims(world, world.root_b_key)
    assert error_of(lambda: SAML_CALLS[action](root_b)) == (404, "EntityNotExist.SAMLProvider")
    assert SAMLProvider.objects.get(name="okta").description == ""


@pytest.mark.parametrize("action", sorted(OIDC_CALLS))
def test_another_accounts_admin_does_not_find_an_oidc_provider(world: World, action: str) -> None:
    providers_of_a(world)
    root_b = ims(world, world.root_b_key)
    assert error_of(lambda: OIDC_CALLS[action](root_b)) == (404, "EntityNotExist.OIDCProvider")
    assert OIDCProvider.objects.get(name="github").client_ids == ["app-1"]


def test_another_accounts_lists_hold_only_their_own(world: World) -> None:
    providers_of_a(world)
    root_b = ims(world, world.root_b_key)
    saml = root_b.list_samlproviders(ims_models.ListSAMLProvidersRequest()).body
    oidc = root_b.list_oidcproviders(ims_models.ListOIDCProvidersRequest()).body
    assert (saml.samlproviders.samlprovider, oidc.oidcproviders.oidcprovider) == ([], [])


def test_the_same_name_in_another_account_is_its_own(world: World) -> None:
    providers_of_a(world)
    created = create_saml(ims(world, world.root_b_key), "okta").samlprovider
    assert created.arn == f"acs:ram::{world.company_b.pk}:saml-provider/okta"


def test_a_user_without_permission_is_refused_naming_the_action(world: World) -> None:
    bob = ims(world, world.bob_key)
    with pytest.raises(ClientException) as caught:
        create_saml(bob, "okta")
    assert (caught.value.status_code, caught.value.code) == (403, "NoPermission")
    assert caught.value.data["AccessDeniedDetail"]["AuthAction"] == "ram:CreateSAMLProvider"
    assert not SAMLProvider.objects.exists()


def test_a_user_without_permission_cannot_read_a_provider(world: World) -> None:
    providers.create_oidc_provider(
        SYSTEM_ACTOR,
        world.company_b,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1",
        fingerprints=FINGERPRINT,
    )
    assert error_of(lambda: get_oidc(ims(world, world.bob_key))) == (403, "NoPermission")
    event = AuditEvent.objects.filter(action="ram:GetOIDCProvider").get()
    assert event.resource_arn == f"acs:ram::{world.company_b.pk}:oidc-provider/github"


def test_a_role_session_manages_its_roles_accounts_providers(world: World) -> None:
    """Alice of B, in A's ops-admin role (AliyunRAMFullAccess), acts in A."""
    creds = assume(
        sts(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret),
        world.role.arn,
    ).credentials
    session = ims(world, Key(creds.access_key_id, creds.access_key_secret), creds.security_token)
    created = create_oidc(session, "from-b").oidcprovider
    assert created.arn == f"acs:ram::{world.company_a.pk}:oidc-provider/from-b"
    event = AuditEvent.objects.get(action="ram:CreateOIDCProvider")
    assert event.logon_identity == world.alice.arn


# --- RAM's version ------------------------------------------------------------------------------


def ram_request(action: str, **params: str) -> CommonRequest:
    request = CommonRequest(version="2015-05-01", action_name=action)
    request.set_method("POST")
    for name, value in params.items():
        request.add_query_param(name, value)
    return request


def test_the_actions_answer_in_rams_version_too(world: World) -> None:
    key = world.admin_a_key
    request = ram_request(
        "CreateOIDCProvider",
        OIDCProviderName="github",
        IssuerUrl=ISSUER,
        ClientIds="app-1",
        Fingerprints=FINGERPRINT,
    )
    created = legacy_call(world.endpoint, key.access_key_id, key.secret, request)
    assert set(created["OIDCProvider"]) == OIDC_FIELDS
    listed = legacy_call(
        world.endpoint, key.access_key_id, key.secret, ram_request("ListOIDCProviders")
    )
    assert [p["OIDCProviderName"] for p in listed["OIDCProviders"]["OIDCProvider"]] == ["github"]


def test_rams_version_answers_alibabas_errors_too(world: World) -> None:
    key = world.admin_a_key
    request = ram_request("GetSAMLProvider", SAMLProviderName="nowhere")
    with pytest.raises(ServerException) as caught:
        legacy_call(world.endpoint, key.access_key_id, key.secret, request)
    assert (caught.value.get_http_status(), caught.value.get_error_code()) == (
        404,
        "EntityNotExist.SAMLProvider",
    )
