"""Identity providers over the RPC API: the SAML and OIDC provider actions.

Alibaba Cloud serves them in IMS (2019-08-15), which is what its SDK ``alibabacloud-ims20190815``
calls; they answer in RAM's version (2015-05-01) too, so a RAM client reaches them with the version
it already speaks. Like every RAM action (``iam.api``), each authorizes ``ram:<Action>`` on the
provider's ARN as the effective identity, then calls one service (``iam.providers``). Providers of
other accounts are never found.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

from iam import arns, providers
from iam.api import RAM_VERSION, account_of, authorize, page
from iam.models import OIDCProvider, SAMLProvider
from iam.rpc import Call, Handler, action, iso

IMS_VERSION = "2019-08-15"


def provider_action(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as ``name`` in both versions."""

    def register(handler: Handler) -> Handler:
        for version in (RAM_VERSION, IMS_VERSION):
            action(version, name)(handler)
        return handler

    return register


# --- representations ----------------------------------------------------------------------------


def saml_body(provider: SAMLProvider, *, with_document: bool = False) -> dict[str, Any]:
    body = {
        "SAMLProviderName": provider.name,
        "Arn": provider.arn,
        "Description": provider.description,
        "CreateDate": iso(provider.created),
        "UpdateDate": iso(provider.updated),
    }
    if with_document:
        document = provider.metadata.encode("utf-8")
        body["EncodedSAMLMetadataDocument"] = base64.b64encode(document).decode("ascii")
    return body


def milliseconds(moment: datetime) -> str:
    """IMS's ``GmtCreate``/``GmtModified``: the Unix time in milliseconds, as a string."""
    return str(int(moment.timestamp() * 1000))


def oidc_body(provider: OIDCProvider) -> dict[str, Any]:
    return {
        "OIDCProviderName": provider.name,
        "Arn": provider.arn,
        "IssuerUrl": provider.issuer_url,
        "ClientIds": ",".join(provider.client_ids),
        "Fingerprints": ",".join(provider.fingerprints),
        "IssuanceLimitTime": provider.issuance_limit_hours,
        "Description": provider.description,
        "CreateDate": iso(provider.created),
        "UpdateDate": iso(provider.updated),
        "GmtCreate": milliseconds(provider.created),
        "GmtModified": milliseconds(provider.updated),
    }


# --- look-ups: in the caller's own account, then authorized -------------------------------------


def authorized_saml_provider(call: Call) -> SAMLProvider:
    name = call.param("SAMLProviderName", required=True) or ""
    provider = providers.find_saml_provider(account_of(call).pk, name)
    authorize(call, provider.arn)
    return provider


def authorized_oidc_provider(call: Call) -> OIDCProvider:
    name = call.param("OIDCProviderName", required=True) or ""
    provider = providers.find_oidc_provider(account_of(call).pk, name)
    authorize(call, provider.arn)
    return provider


# --- SAML providers -----------------------------------------------------------------------------


@provider_action("CreateSAMLProvider")
def create_saml_provider(call: Call) -> dict[str, Any]:
    # AuthnSignAlgo (how Alibaba's SP signs its requests to the IdP) is accepted and ignored: our
    # SP sends no signed AuthnRequests.
    account = account_of(call)
    name = call.param("SAMLProviderName", required=True) or ""
    authorize(call, arns.saml_provider_arn(account.pk, name))
    encoded = call.param("EncodedSAMLMetadataDocument", required=True) or ""
    provider = providers.create_saml_provider(
        call.actor,
        account,
        name,
        metadata=providers.decode_metadata(encoded),
        description=call.param("Description", default="") or "",
    )
    return {"SAMLProvider": saml_body(provider)}


@provider_action("GetSAMLProvider")
def get_saml_provider_action(call: Call) -> dict[str, Any]:
    return {"SAMLProvider": saml_body(authorized_saml_provider(call), with_document=True)}


@provider_action("ListSAMLProviders")
def list_saml_providers(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.saml_provider_arn(account.pk, arns.ANY))
    found, paging = page(call, SAMLProvider.objects.filter(account=account))
    return {**paging, "SAMLProviders": {"SAMLProvider": [saml_body(p) for p in found]}}


@provider_action("UpdateSAMLProvider")
def update_saml_provider(call: Call) -> dict[str, Any]:
    provider = authorized_saml_provider(call)
    encoded = call.param("NewEncodedSAMLMetadataDocument")
    provider = providers.update_saml_provider(
        call.actor,
        provider,
        metadata=providers.decode_metadata(encoded) if encoded else None,
        description=call.param("NewDescription"),
    )
    return {"SAMLProvider": saml_body(provider)}


@provider_action("DeleteSAMLProvider")
def delete_saml_provider(call: Call) -> dict[str, Any]:
    providers.delete_saml_provider(call.actor, authorized_saml_provider(call))
    return {}


# --- OIDC providers -----------------------------------------------------------------------------


@provider_action("CreateOIDCProvider")
def create_oidc_provider(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("OIDCProviderName", required=True) or ""
    authorize(call, arns.oidc_provider_arn(account.pk, name))
    provider = providers.create_oidc_provider(
        call.actor,
        account,
        name,
        issuer_url=call.param("IssuerUrl", required=True) or "",
        client_ids=call.param("ClientIds", default="") or "",
        fingerprints=call.param("Fingerprints", default="") or "",
        description=call.param("Description", default="") or "",
        issuance_limit_hours=call.param("IssuanceLimitTime"),
    )
    return {"OIDCProvider": oidc_body(provider)}


@provider_action("GetOIDCProvider")
def get_oidc_provider_action(call: Call) -> dict[str, Any]:
    return {"OIDCProvider": oidc_body(authorized_oidc_provider(call))}


@provider_action("ListOIDCProviders")
def list_oidc_providers(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.oidc_provider_arn(account.pk, arns.ANY))
    found, paging = page(call, OIDCProvider.objects.filter(account=account))
    return {**paging, "OIDCProviders": {"OIDCProvider": [oidc_body(p) for p in found]}}


@provider_action("UpdateOIDCProvider")
def update_oidc_provider(call: Call) -> dict[str, Any]:
    """``ClientIds``, when given, replaces them all; the issuer and fingerprints stay."""
    provider = providers.update_oidc_provider(
        call.actor,
        authorized_oidc_provider(call),
        client_ids=call.param("ClientIds") or None,
        description=call.param("NewDescription"),
        issuance_limit_hours=call.param("IssuanceLimitTime"),
    )
    return {"OIDCProvider": oidc_body(provider)}


@provider_action("DeleteOIDCProvider")
def delete_oidc_provider(call: Call) -> dict[str, Any]:
    providers.delete_oidc_provider(call.actor, authorized_oidc_provider(call))
    return {}


@provider_action("AddClientIdToOIDCProvider")
def add_client_id(call: Call) -> dict[str, Any]:
    provider = authorized_oidc_provider(call)
    client_id = call.param("ClientId", required=True) or ""
    return {"OIDCProvider": oidc_body(providers.add_client_id(call.actor, provider, client_id))}


@provider_action("RemoveClientIdFromOIDCProvider")
def remove_client_id(call: Call) -> dict[str, Any]:
    provider = authorized_oidc_provider(call)
    client_id = call.param("ClientId", required=True) or ""
    return {"OIDCProvider": oidc_body(providers.remove_client_id(call.actor, provider, client_id))}


@provider_action("AddFingerprintToOIDCProvider")
def add_fingerprint(call: Call) -> dict[str, Any]:
    provider = authorized_oidc_provider(call)
    fingerprint = call.param("Fingerprint", required=True) or ""
    return {"OIDCProvider": oidc_body(providers.add_fingerprint(call.actor, provider, fingerprint))}


@provider_action("RemoveFingerprintFromOIDCProvider")
def remove_fingerprint(call: Call) -> dict[str, Any]:
    provider = authorized_oidc_provider(call)
    fingerprint = call.param("Fingerprint", required=True) or ""
    return {
        "OIDCProvider": oidc_body(providers.remove_fingerprint(call.actor, provider, fingerprint))
    }
