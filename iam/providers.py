"""Identity providers: the SAML 2.0 and OpenID Connect issuers an account federates with.

Like ``iam.services``, every public function that changes something is one transaction that
validates its input by Alibaba Cloud's rules (its IMS API, 2019-08-15), makes the change, bumps the
account's version and appends one audit event. Verifying what a provider issues (assertions, ID
tokens) is STS's business (``sts.saml``, ``sts.oidc``); this module keeps what that needs: a SAML
provider's entity id and signing certificates, read from its metadata document once, at upload.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from lxml import etree

from iam import errors, safe_xml, versions
from iam.audit import Actor, record
from iam.models import Account, OIDCProvider, SAMLProvider
from iam.services import check_length, check_name

PROVIDER_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
FINGERPRINT_RE = re.compile(r"^[0-9a-fA-F]{40}\Z")
CLIENT_ID_RE = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,128}\Z")  # printable ASCII but the comma
METADATA_MAX_BYTES = 100_000
PROVIDER_NAME_RULE = gettext_noop(
    "Enter a name of at most 128 letters, digits, dots (.), hyphens (-) and underscores (_), "
    "beginning and ending with a letter or digit."
)
MAX_PROVIDERS = 100
MAX_CLIENT_IDS = 50
MAX_FINGERPRINTS = 5
DEFAULT_ISSUANCE_LIMIT = 12
MAX_ISSUANCE_LIMIT = 168

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NAMESPACES = {"md": MD, "ds": DS}


# --- SAML metadata --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamlMetadata:
    """What an IdP's metadata says about verifying its assertions."""

    entity_id: str
    certificates: tuple[str, ...]  # PEM
    sso_url: str
    valid_until: datetime | None


def metadata_error(reason: str, **params: Any) -> errors.InvalidParameter:
    """``reason`` in English (marked with ``gettext_noop``), with ``%(name)s`` placeholders for
    ``params``: the API's message keeps it in English, the console's words translate it."""
    english, local = (reason % params, _(reason) % params) if params else (reason, _(reason))
    return errors.InvalidParameter(
        "InvalidParameter.EncodedSAMLMetadataDocument",
        f"The parameter EncodedSAMLMetadataDocument is invalid: {english}",
        field="metadata",
        plain=_("The metadata document is not usable: %(reason)s") % {"reason": local},
    )


def decode_metadata(encoded: str) -> bytes:
    """The API's ``EncodedSAMLMetadataDocument``: the metadata XML, base64-encoded."""
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise metadata_error(gettext_noop("it is not base64.")) from None


def read_xml(document: bytes) -> etree._Element:
    """Parse XML from outside without DTDs, entities or network access (``iam.safe_xml``)."""
    try:
        return safe_xml.parse(document)
    except safe_xml.UnsafeXml as error:
        raise metadata_error(str(error)) from None


def parse_saml_metadata(document: bytes) -> SamlMetadata:
    """An IdP's ``EntityDescriptor`` (alone or first in an ``EntitiesDescriptor``) with an
    ``IDPSSODescriptor`` and at least one signing certificate."""
    if not document.strip():
        raise metadata_error(gettext_noop("it is empty."))
    if len(document) > METADATA_MAX_BYTES:
        raise metadata_error(
            gettext_noop("it is larger than %(most)s bytes."), most=METADATA_MAX_BYTES
        )
    try:
        # Kept as text and handed back byte for byte (GetSAMLProvider); no NUL, which PostgreSQL
        # cannot store and UTF-16 is full of.
        text = document.decode("utf-8")
    except UnicodeDecodeError:
        raise metadata_error(gettext_noop("it is not UTF-8 text.")) from None
    if "\x00" in text:
        raise metadata_error(gettext_noop("it is not UTF-8 text."))
    root = read_xml(document)
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        root = next(iter(root.iterfind("md:EntityDescriptor", NAMESPACES)), None)
    if root is None or root.tag != f"{{{MD}}}EntityDescriptor":
        raise metadata_error(gettext_noop("it has no SAML 2.0 EntityDescriptor."))
    entity_id = (root.get("entityID") or "").strip()
    if not entity_id or len(entity_id) > 1024:
        raise metadata_error(gettext_noop("the EntityDescriptor has no entityID."))
    idp = root.find("md:IDPSSODescriptor", NAMESPACES)
    if idp is None:
        raise metadata_error(gettext_noop("it describes no identity provider (IDPSSODescriptor)."))
    certificates = []
    expiries = [parse_instant(root.get("validUntil")), parse_instant(idp.get("validUntil"))]
    for descriptor in idp.iterfind("md:KeyDescriptor", NAMESPACES):
        if descriptor.get("use", "signing") != "signing":
            continue
        for element in descriptor.iterfind(".//ds:X509Certificate", NAMESPACES):
            certificate = load_certificate(element.text or "")
            certificates.append(certificate.public_bytes(Encoding.PEM).decode("ascii"))
            expiries.append(certificate.not_valid_after_utc)
    if not certificates:
        raise metadata_error(
            gettext_noop('it names no signing certificate (KeyDescriptor use="signing").')
        )
    sso = idp.find("md:SingleSignOnService", NAMESPACES)
    known = [expiry for expiry in expiries if expiry is not None]
    return SamlMetadata(
        entity_id=entity_id,
        certificates=tuple(dict.fromkeys(certificates)),
        sso_url=(sso.get("Location") or "")[:1024] if sso is not None else "",
        valid_until=min(known) if known else None,
    )


def load_certificate(text: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except (binascii.Error, ValueError):
        raise metadata_error(
            gettext_noop("one of its X509Certificate elements is not a certificate.")
        ) from None


def parse_instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise metadata_error(
            gettext_noop("validUntil %(value)s is not a date and time."), value=repr(value)
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


# --- SAML providers -------------------------------------------------------------------------------


def saml_snapshot(provider: SAMLProvider) -> dict[str, Any]:
    return {
        "SAMLProviderName": provider.name,
        "Description": provider.description,
        "EntityId": provider.entity_id,
        "Certificates": len(provider.certificates),
    }


def apply_metadata(provider: SAMLProvider, document: bytes, metadata: SamlMetadata) -> None:
    provider.metadata = document.decode("utf-8")  # UTF-8, as parse_saml_metadata checked
    provider.entity_id = metadata.entity_id
    provider.certificates = list(metadata.certificates)
    provider.sso_url = metadata.sso_url
    provider.valid_until = metadata.valid_until


def check_provider_name(name: str, parameter: str) -> str:
    """Alibaba's code and message; the console's words are its own (the generic ones would spell
    ``SAMLProviderName`` "s a m l provider name" and, reading the pattern's first character, allow
    "only letters and digits")."""
    try:
        return check_name(name, parameter, PROVIDER_NAME_RE, 128)
    except errors.InvalidParameter as error:
        error.field = "name"
        error.plain = _(PROVIDER_NAME_RULE)
        raise


def save_new(provider: SAMLProvider | OIDCProvider, actor: Actor, snapshot: dict[str, Any]) -> None:
    """The two creates' common end: store a checked new provider, within the account's limit and under a name no provider of
    its kind has in the account (in any letter case); audited as ``ram:Create<kind>``."""
    model, account = type(provider), provider.account
    kind, label = model.__name__, model.__name__.removesuffix("Provider")  # "SAMLProvider", "SAML"
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if model.objects.filter(account=account).count() >= MAX_PROVIDERS:
        raise errors.LimitExceeded(
            f"LimitExceeded.{kind}", f"The count of {kind} providers beyond the current limits."
        )
    if model.objects.filter(account=account, name__iexact=provider.name).exists():
        raise errors.EntityAlreadyExists(
            f"EntityAlreadyExists.{kind}",
            f"The {label} provider does already EXIST.",
            field="name",
            plain=_("An identity provider with this name already exists."),
        )
    provider.save()
    versions.bump(account.pk)
    record(
        actor, f"ram:Create{kind}", provider.arn, account_id=account.pk, details={"after": snapshot}
    )


@transaction.atomic
def create_saml_provider(
    actor: Actor, account: Account, name: str, *, metadata: bytes, description: str = ""
) -> SAMLProvider:
    check_provider_name(name, "SAMLProviderName")
    check_length(description, "Description", 256)
    provider = SAMLProvider(account=account, name=name, description=description)
    apply_metadata(provider, metadata, parse_saml_metadata(metadata))
    save_new(provider, actor, saml_snapshot(provider))
    return provider


@transaction.atomic
def update_saml_provider(
    actor: Actor,
    provider: SAMLProvider,
    *,
    metadata: bytes | None = None,
    description: str | None = None,
) -> SAMLProvider:
    # Everything is checked before the provider changes: a refused update leaves it as it was.
    read = parse_saml_metadata(metadata) if metadata is not None else None
    if description is not None:
        check_length(description, "NewDescription", 256)
    before = saml_snapshot(provider)
    if metadata is not None and read is not None:
        apply_metadata(provider, metadata, read)
    if description is not None:
        provider.description = description
    provider.save()
    versions.bump(provider.account_id)
    record(
        actor,
        "ram:UpdateSAMLProvider",
        provider.arn,
        account_id=provider.account_id,
        details={"before": before, "after": saml_snapshot(provider)},
    )
    return provider


@transaction.atomic
def delete_saml_provider(actor: Actor, provider: SAMLProvider) -> None:
    """Roles that trust it stay; nobody can sign in through it any more."""
    arn, account_id, snapshot = provider.arn, provider.account_id, saml_snapshot(provider)
    provider.delete()
    versions.bump(account_id)
    record(
        actor, "ram:DeleteSAMLProvider", arn, account_id=account_id, details={"before": snapshot}
    )


def find_saml_provider(account_id: str, name: str) -> SAMLProvider:
    provider = SAMLProvider.objects.filter(account_id=account_id, name__iexact=name).first()
    if provider is None:
        raise errors.EntityNotExist(
            "EntityNotExist.SAMLProvider", "The SAML provider does not EXIST."
        )
    return provider


# --- OIDC providers -------------------------------------------------------------------------------


def oidc_snapshot(provider: OIDCProvider) -> dict[str, Any]:
    return {
        "OIDCProviderName": provider.name,
        "Description": provider.description,
        "IssuerUrl": provider.issuer_url,
        "ClientIds": ",".join(provider.client_ids),
        "Fingerprints": ",".join(provider.fingerprints),
        "IssuanceLimitTime": provider.issuance_limit_hours,
    }


def split_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """The API's comma-separated lists (``ClientIds``, ``Fingerprints``); the console's lines."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[,\s]+", value)
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def check_issuer_url(value: str) -> str:
    if not well_formed_issuer(value or ""):
        raise errors.InvalidParameter(
            "InvalidParameter.IssuerUrl",
            "The parameter IssuerUrl is invalid: it must be an https URL without query or "
            "fragment, at most 255 characters.",
            field="issuer_url",
            plain=_("Enter the issuer's https URL (no query or fragment), at most 255 characters."),
        )
    return value


def well_formed_issuer(value: str) -> bool:
    """An https URL with a host (and a port, if any, that is one), without sign-in part (``@``),
    query (``?``, even an empty one) or fragment (``#``)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and "?" not in value
        and "#" not in value
        and len(value) <= 255
    )


def check_client_ids(client_ids: list[str]) -> list[str]:
    if not client_ids:
        raise errors.InvalidParameter(
            "MissingClientIds",
            "ClientIds is mandatory for this action.",
            field="client_ids",
            plain=_("Enter at least one client ID."),
        )
    if len(client_ids) > MAX_CLIENT_IDS:
        raise errors.LimitExceeded(
            "LimitExceeded.ClientIds",
            f"The count of client IDs beyond the current limits ({MAX_CLIENT_IDS}).",
            field="client_ids",
            plain=_("Enter at most %(most)s client IDs.") % {"most": MAX_CLIENT_IDS},
        )
    for client_id in client_ids:
        if not CLIENT_ID_RE.match(client_id):
            raise errors.InvalidParameter(
                "InvalidParameter.ClientIds",
                "The parameter ClientIds is invalid: each client ID is 1-128 printable characters.",
                field="client_ids",
                plain=_("Each client ID is 1-128 printable characters, without commas."),
            )
    return client_ids


def check_fingerprints(fingerprints: list[str]) -> list[str]:
    if not fingerprints:
        raise errors.InvalidParameter(
            "MissingFingerprints",
            "Fingerprints is mandatory for this action.",
            field="fingerprints",
            plain=_("Enter the SHA-1 fingerprint of the issuer's HTTPS certificate."),
        )
    if len(fingerprints) > MAX_FINGERPRINTS:
        raise errors.LimitExceeded(
            "LimitExceeded.Fingerprints",
            f"The count of fingerprints beyond the current limits ({MAX_FINGERPRINTS}).",
            field="fingerprints",
            plain=_("Enter at most %(most)s fingerprints.") % {"most": MAX_FINGERPRINTS},
        )
    for fingerprint in fingerprints:
        if not FINGERPRINT_RE.match(fingerprint.replace(":", "")):
            raise errors.InvalidParameter(
                "InvalidParameter.Fingerprints",
                "The parameter Fingerprints is invalid: each is a SHA-1 fingerprint of 40 "
                "hexadecimal characters.",
                field="fingerprints",
                plain=_("Each fingerprint is 40 hexadecimal characters (SHA-1)."),
            )
    return [fingerprint.replace(":", "").lower() for fingerprint in fingerprints]


def check_issuance_limit(value: int | str | None) -> int:
    if value in (None, ""):
        return DEFAULT_ISSUANCE_LIMIT
    try:
        hours = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= MAX_ISSUANCE_LIMIT:
        raise errors.InvalidParameter(
            "InvalidParameter.IssuanceLimitTime",
            f"The parameter IssuanceLimitTime must be an integer from 1 to {MAX_ISSUANCE_LIMIT}.",
            field="issuance_limit_hours",
            plain=_("Enter a whole number of hours from 1 to %(most)s.")
            % {"most": MAX_ISSUANCE_LIMIT},
        )
    return hours


@transaction.atomic
def create_oidc_provider(
    actor: Actor,
    account: Account,
    name: str,
    *,
    issuer_url: str,
    client_ids: str | list[str],
    fingerprints: str | list[str],
    description: str = "",
    issuance_limit_hours: int | str | None = None,
) -> OIDCProvider:
    check_provider_name(name, "OIDCProviderName")
    check_length(description, "Description", 256)
    provider = OIDCProvider(
        account=account,
        name=name,
        description=description,
        issuer_url=check_issuer_url(issuer_url),
        client_ids=check_client_ids(split_list(client_ids)),
        fingerprints=check_fingerprints(split_list(fingerprints)),
        issuance_limit_hours=check_issuance_limit(issuance_limit_hours),
    )
    save_new(provider, actor, oidc_snapshot(provider))
    return provider


@transaction.atomic
def update_oidc_provider(
    actor: Actor,
    provider: OIDCProvider,
    *,
    client_ids: str | list[str] | None = None,
    fingerprints: str | list[str] | None = None,
    description: str | None = None,
    issuance_limit_hours: int | str | None = None,
    action: str = "ram:UpdateOIDCProvider",
) -> OIDCProvider:
    """The issuer URL never changes (a new issuer is a new provider)."""
    # Everything is checked before the provider changes: a refused update leaves it as it was.
    changes: dict[str, Any] = {}
    if client_ids is not None:
        changes["client_ids"] = check_client_ids(split_list(client_ids))
    if fingerprints is not None:
        changes["fingerprints"] = check_fingerprints(split_list(fingerprints))
    if description is not None:
        changes["description"] = check_length(description, "NewDescription", 256)
    if issuance_limit_hours not in (None, ""):
        changes["issuance_limit_hours"] = check_issuance_limit(issuance_limit_hours)
    before = oidc_snapshot(provider)
    for name, value in changes.items():
        setattr(provider, name, value)
    provider.save()
    versions.bump(provider.account_id)
    record(
        actor,
        action,
        provider.arn,
        account_id=provider.account_id,
        details={"before": before, "after": oidc_snapshot(provider)},
    )
    return provider


@transaction.atomic
def add_client_id(actor: Actor, provider: OIDCProvider, client_id: str) -> OIDCProvider:
    # Checked alone first: an empty or padded one would vanish in split_list, added as nothing.
    (client_id,) = check_client_ids([client_id.strip()])
    if client_id in provider.client_ids:
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.ClientId", "The client ID does already EXIST."
        )
    return update_oidc_provider(
        actor,
        provider,
        client_ids=[*provider.client_ids, client_id],
        action="ram:AddClientIdToOIDCProvider",
    )


@transaction.atomic
def remove_client_id(actor: Actor, provider: OIDCProvider, client_id: str) -> OIDCProvider:
    if client_id not in provider.client_ids:
        raise errors.EntityNotExist("EntityNotExist.ClientId", "The client ID does not EXIST.")
    return update_oidc_provider(
        actor,
        provider,
        client_ids=[known for known in provider.client_ids if known != client_id],
        action="ram:RemoveClientIdFromOIDCProvider",
    )


@transaction.atomic
def add_fingerprint(actor: Actor, provider: OIDCProvider, fingerprint: str) -> OIDCProvider:
    (normalized,) = check_fingerprints([fingerprint])
    if normalized in provider.fingerprints:
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Fingerprint", "The fingerprint does already EXIST."
        )
    return update_oidc_provider(
        actor,
        provider,
        fingerprints=[*provider.fingerprints, normalized],
        action="ram:AddFingerprintToOIDCProvider",
    )


@transaction.atomic
def remove_fingerprint(actor: Actor, provider: OIDCProvider, fingerprint: str) -> OIDCProvider:
    normalized = fingerprint.replace(":", "").lower()
    if normalized not in provider.fingerprints:
        raise errors.EntityNotExist("EntityNotExist.Fingerprint", "The fingerprint does not EXIST.")
    return update_oidc_provider(
        actor,
        provider,
        fingerprints=[known for known in provider.fingerprints if known != normalized],
        action="ram:RemoveFingerprintFromOIDCProvider",
    )


@transaction.atomic
def delete_oidc_provider(actor: Actor, provider: OIDCProvider) -> None:
    arn, account_id, snapshot = provider.arn, provider.account_id, oidc_snapshot(provider)
    provider.delete()
    versions.bump(account_id)
    record(
        actor, "ram:DeleteOIDCProvider", arn, account_id=account_id, details={"before": snapshot}
    )


def find_oidc_provider(account_id: str, name: str) -> OIDCProvider:
    provider = OIDCProvider.objects.filter(account_id=account_id, name__iexact=name).first()
    if provider is None:
        raise errors.EntityNotExist(
            "EntityNotExist.OIDCProvider", "The OIDC provider does not EXIST."
        )
    return provider
