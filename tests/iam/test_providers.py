"""Identity providers (``iam.providers``): SAML metadata read once at upload, OIDC providers' rules,
names per account, and every write audited, bumping the account's version, or changing nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from iam import providers
from iam.audit import SYSTEM_ACTOR
from iam.errors import ServiceError
from iam.models import Account, AuditEvent, OIDCProvider, SAMLProvider
from tests.certificates import self_signed

pytestmark = pytest.mark.django_db

A = SYSTEM_ACTOR
ENTITY_ID = "https://idp.example.com/saml/metadata"
SSO_URL = "https://idp.example.com/saml/sso"
ISSUER = "https://issuer.example.com"
FINGERPRINT = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"
OTHER_FINGERPRINT = "0bbfab97059595e8d1ec48e89eb8657c0e5aae71"


# --- SAML metadata, as an IdP would publish it --------------------------------------------------


@cache
def certificate(days: int = 365) -> x509.Certificate:
    """A self-signed signing certificate valid for ``days`` from now (one per ``days``)."""
    return self_signed(f"idp-{days}", days=days)


def der_base64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def key_descriptor(cert: x509.Certificate, use: str | None = "signing") -> str:
    use_attribute = f' use="{use}"' if use else ""
    return (
        f"<md:KeyDescriptor{use_attribute}><ds:KeyInfo><ds:X509Data>"
        f"<ds:X509Certificate>{der_base64(cert)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    )


def entity(
    entity_id: str = ENTITY_ID,
    keys: str | None = None,
    *,
    role: str = "IDPSSODescriptor",
    valid_until: str | None = None,
) -> str:
    keys = key_descriptor(certificate()) if keys is None else keys
    valid = f' validUntil="{valid_until}"' if valid_until else ""
    service = (
        f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"'
        f' Location="{SSO_URL}"/>'
        if role == "IDPSSODescriptor"
        else ""
    )
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'
        f' xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"{valid}>'
        f'<md:{role} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}{service}</md:{role}></md:EntityDescriptor>"
    )


def metadata(body: str | None = None, prologue: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prologue}' + (body or entity())).encode()


def encoded(document: bytes | None = None) -> str:
    """``EncodedSAMLMetadataDocument``: the document, base64-encoded."""
    return base64.b64encode(document or metadata()).decode()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode()


def metadata_refusal(document: bytes) -> str:
    with pytest.raises(ServiceError) as caught:
        providers.parse_saml_metadata(document)
    assert caught.value.code == "InvalidParameter.EncodedSAMLMetadataDocument"
    return caught.value.message


def error_code(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_metadata_gives_the_entity_id_signing_certificate_and_sso_url() -> None:
    read = providers.parse_saml_metadata(metadata())
    assert (read.entity_id, read.sso_url) == (ENTITY_ID, SSO_URL)
    assert read.certificates == (pem(certificate()),)


def test_a_key_descriptor_without_use_is_for_signing_too() -> None:
    read = providers.parse_saml_metadata(metadata(entity(keys=key_descriptor(certificate(), None))))
    assert read.certificates == (pem(certificate()),)


def test_the_first_entity_of_an_entities_descriptor_is_read() -> None:
    body = (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        f"{entity()}{entity('https://second.example.com')}</md:EntitiesDescriptor>"
    )
    assert providers.parse_saml_metadata(metadata(body)).entity_id == ENTITY_ID


def test_metadata_of_a_service_provider_is_refused() -> None:
    message = metadata_refusal(metadata(entity(role="SPSSODescriptor")))
    assert "IDPSSODescriptor" in message


def test_metadata_with_only_an_encryption_certificate_is_refused() -> None:
    message = metadata_refusal(metadata(entity(keys=key_descriptor(certificate(), "encryption"))))
    assert "signing certificate" in message


def test_a_certificate_that_is_not_one_is_refused() -> None:
    keys = key_descriptor(certificate()).replace(der_base64(certificate()), "bm90IGEgY2VydA==")
    assert "not a certificate" in metadata_refusal(metadata(entity(keys=keys)))


def test_a_document_type_declaration_is_refused() -> None:
    prologue = '<!DOCTYPE md:EntityDescriptor [<!ENTITY id "https://idp.example.com">]>'
    body = entity(entity_id="&id;")
    assert "document type" in metadata_refusal(metadata(body, prologue))


def test_an_entity_declared_in_utf_16_is_refused_too() -> None:
    """The byte check cannot see a DOCTYPE in UTF-16, and libxml2 would expand the entity."""
    prologue = '<!DOCTYPE md:EntityDescriptor [<!ENTITY id "https://idp.example.com">]>'
    text = '<?xml version="1.0" encoding="UTF-16"?>' + prologue + entity(entity_id="&id;")
    metadata_refusal(text.encode("utf-16"))


def test_metadata_that_is_not_utf_8_is_refused() -> None:
    document = metadata().replace(b"UTF-8", b"ISO-8859-1").replace(b"saml/sso", b"saml/\xe9")
    assert "UTF-8" in metadata_refusal(document)


def test_metadata_that_is_not_xml_is_refused() -> None:
    assert "well-formed" in metadata_refusal(b"<md:EntityDescriptor")


def test_metadata_that_is_not_base64_is_refused() -> None:
    assert error_code(providers.decode_metadata, "<xml/>") == (
        "InvalidParameter.EncodedSAMLMetadataDocument"
    )


def test_base64_across_lines_is_decoded() -> None:
    wrapped = "\n".join(encoded()[i : i + 64] for i in range(0, len(encoded()), 64))
    assert providers.decode_metadata(wrapped) == metadata()


def test_valid_until_is_the_certificates_expiry_when_it_comes_first() -> None:
    read = providers.parse_saml_metadata(metadata(entity(valid_until="2999-01-01T00:00:00Z")))
    assert read.valid_until == certificate().not_valid_after_utc


def test_valid_until_is_the_metadatas_own_when_it_comes_first() -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    valid_until = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    read = providers.parse_saml_metadata(metadata(entity(valid_until=valid_until)))
    assert read.valid_until == soon


def test_valid_until_is_the_earliest_of_several_certificates() -> None:
    keys = key_descriptor(certificate(365)) + key_descriptor(certificate(30))
    read = providers.parse_saml_metadata(metadata(entity(keys=keys)))
    assert len(read.certificates) == 2
    assert read.valid_until == certificate(30).not_valid_after_utc


def test_a_valid_until_that_is_no_date_is_refused() -> None:
    assert "validUntil" in metadata_refusal(metadata(entity(valid_until="soon")))


# --- SAML providers -----------------------------------------------------------------------------


def create_saml(account: Account, name: str = "okta", **kwargs: Any) -> SAMLProvider:
    return providers.create_saml_provider(A, account, name, metadata=metadata(), **kwargs)


def test_a_saml_provider_keeps_its_document_and_what_verifying_needs(account_a: Account) -> None:
    provider = SAMLProvider.objects.get(pk=create_saml(account_a, description="corp").pk)
    assert provider.metadata.encode() == metadata()
    assert (provider.entity_id, provider.certificates) == (ENTITY_ID, [pem(certificate())])
    assert provider.arn == f"acs:ram::{account_a.pk}:saml-provider/okta"


def test_saml_provider_names_are_unique_regardless_of_case(account_a: Account) -> None:
    create_saml(account_a, "okta")
    assert error_code(create_saml, account_a, "OKTA") == "EntityAlreadyExists.SAMLProvider"


@pytest.mark.parametrize("name", ["", "-okta", "okta.", "ok ta", "o" * 129])
def test_a_bad_provider_name_is_refused_in_the_forms_words(account_a: Account, name: str) -> None:
    with pytest.raises(ServiceError) as caught:
        create_saml(account_a, name)
    assert caught.value.code.startswith("InvalidParameter.SAMLProviderName.")
    assert (caught.value.field, caught.value.plain) == ("name", providers.PROVIDER_NAME_RULE)


def test_a_saml_provider_is_found_regardless_of_case(account_a: Account) -> None:
    provider = create_saml(account_a, "Okta")
    assert providers.find_saml_provider(account_a.pk, "OKTA") == provider


def test_another_accounts_saml_provider_is_not_found(
    account_a: Account, account_b: Account
) -> None:
    create_saml(account_b, "okta")
    assert error_code(providers.find_saml_provider, account_a.pk, "okta") == (
        "EntityNotExist.SAMLProvider"
    )


def test_the_same_name_in_two_accounts_is_two_providers(
    account_a: Account, account_b: Account
) -> None:
    create_saml(account_a, "okta")
    create_saml(account_b, "okta")
    assert SAMLProvider.objects.filter(name="okta").count() == 2


def test_new_metadata_replaces_what_was_read(account_a: Account) -> None:
    provider = create_saml(account_a)
    document = metadata(entity("https://new.example.com", key_descriptor(certificate(30))))
    providers.update_saml_provider(A, provider, metadata=document)
    provider.refresh_from_db()
    assert (provider.entity_id, provider.certificates) == (
        "https://new.example.com",
        [pem(certificate(30))],
    )


# --- OIDC providers -----------------------------------------------------------------------------


def create_oidc(account: Account, name: str = "github", **kwargs: Any) -> OIDCProvider:
    values: dict[str, Any] = {
        "issuer_url": ISSUER,
        "client_ids": "sts.aliyuncs.com",
        "fingerprints": FINGERPRINT,
        **kwargs,
    }
    return providers.create_oidc_provider(A, account, name, **values)


def test_an_oidc_provider_takes_comma_separated_lists(account_a: Account) -> None:
    provider = create_oidc(
        account_a, client_ids="app-1,app-2, app-1", fingerprints=f"{FINGERPRINT.upper()}"
    )
    assert (provider.client_ids, provider.fingerprints) == (["app-1", "app-2"], [FINGERPRINT])
    assert provider.issuance_limit_hours == providers.DEFAULT_ISSUANCE_LIMIT


def test_a_fingerprint_with_colons_is_stored_without(account_a: Account) -> None:
    with_colons = ":".join(FINGERPRINT[i : i + 2] for i in range(0, 40, 2))
    assert create_oidc(account_a, fingerprints=with_colons).fingerprints == [FINGERPRINT]


@pytest.mark.parametrize(
    "issuer",
    [
        "http://issuer.example.com",
        "https://issuer.example.com/?tenant=1",
        "https://issuer.example.com/?",
        "https://issuer.example.com/#top",
        "https://user@issuer.example.com",
        "https://@issuer.example.com",
        "https://[::1",
        "https://issuer.example.com:99999",
        "https:///path-only",
        "https://issuer.example.com/" + "p" * 250,
    ],
)
def test_an_issuer_that_is_no_plain_https_url_is_refused(account_a: Account, issuer: str) -> None:
    assert error_code(create_oidc, account_a, issuer_url=issuer) == "InvalidParameter.IssuerUrl"


@pytest.mark.parametrize(
    "fingerprint", ["abc", FINGERPRINT + "0", "g" * 40, f"{FINGERPRINT},{FINGERPRINT[:-1]}"]
)
def test_a_fingerprint_that_is_no_sha1_is_refused(account_a: Account, fingerprint: str) -> None:
    assert error_code(create_oidc, account_a, fingerprints=fingerprint) == (
        "InvalidParameter.Fingerprints"
    )


def test_more_than_five_fingerprints_are_refused(account_a: Account) -> None:
    six = ",".join(f"{n:040x}" for n in range(6))
    assert error_code(create_oidc, account_a, fingerprints=six) == "LimitExceeded.Fingerprints"


def test_five_fingerprints_are_allowed(account_a: Account) -> None:
    five = [f"{n:040x}" for n in range(5)]
    assert create_oidc(account_a, fingerprints=",".join(five)).fingerprints == five


def test_more_than_fifty_client_ids_are_refused(account_a: Account) -> None:
    many = ",".join(f"app-{n}" for n in range(51))
    assert error_code(create_oidc, account_a, client_ids=many) == "LimitExceeded.ClientIds"


def test_no_client_id_or_fingerprint_is_refused(account_a: Account) -> None:
    assert error_code(create_oidc, account_a, client_ids=" , ") == "MissingClientIds"
    assert error_code(create_oidc, account_a, fingerprints="") == "MissingFingerprints"


@pytest.mark.parametrize("hours", [0, 169, -1, "12.5", "twelve"])
def test_an_issuance_limit_out_of_bounds_is_refused(account_a: Account, hours: Any) -> None:
    assert error_code(create_oidc, account_a, issuance_limit_hours=hours) == (
        "InvalidParameter.IssuanceLimitTime"
    )


@pytest.mark.parametrize("hours", [1, "168"])
def test_an_issuance_limit_within_bounds_is_kept(account_a: Account, hours: Any) -> None:
    assert create_oidc(account_a, issuance_limit_hours=hours).issuance_limit_hours == int(hours)


def test_oidc_provider_names_are_unique_regardless_of_case(account_a: Account) -> None:
    create_oidc(account_a, "github")
    assert error_code(create_oidc, account_a, "GitHub") == "EntityAlreadyExists.OIDCProvider"


def test_another_accounts_oidc_provider_is_not_found(
    account_a: Account, account_b: Account
) -> None:
    create_oidc(account_b, "github")
    create_oidc(account_a, "github")  # the name is free in A
    found = providers.find_oidc_provider(account_a.pk, "github")
    assert found.account_id == account_a.pk


def test_a_client_id_is_added_once(account_a: Account) -> None:
    provider = providers.add_client_id(A, create_oidc(account_a), "app-2")
    assert provider.client_ids == ["sts.aliyuncs.com", "app-2"]
    assert error_code(providers.add_client_id, A, provider, " app-2 ") == (
        "EntityAlreadyExists.ClientId"
    )


def test_an_empty_client_id_is_not_added(account_a: Account) -> None:
    assert error_code(providers.add_client_id, A, create_oidc(account_a), "") == (
        "InvalidParameter.ClientIds"
    )


def test_a_client_id_it_does_not_have_is_not_removed(account_a: Account) -> None:
    assert error_code(providers.remove_client_id, A, create_oidc(account_a), "app-9") == (
        "EntityNotExist.ClientId"
    )


def test_a_fingerprint_is_added_and_removed_in_any_letter_case(account_a: Account) -> None:
    provider = providers.add_fingerprint(A, create_oidc(account_a), OTHER_FINGERPRINT.upper())
    assert provider.fingerprints == [FINGERPRINT, OTHER_FINGERPRINT]
    provider = providers.remove_fingerprint(A, provider, FINGERPRINT.upper())
    assert provider.fingerprints == [OTHER_FINGERPRINT]


def test_the_last_fingerprint_is_not_removed(account_a: Account) -> None:
    assert error_code(providers.remove_fingerprint, A, create_oidc(account_a), FINGERPRINT) == (
        "MissingFingerprints"
    )


def test_a_sixth_fingerprint_is_not_added(account_a: Account) -> None:
    provider = create_oidc(account_a, fingerprints=",".join(f"{n:040x}" for n in range(5)))
    assert error_code(providers.add_fingerprint, A, provider, FINGERPRINT) == (
        "LimitExceeded.Fingerprints"
    )


# --- every write: audited, the version bumped; a refused one changes nothing --------------------


Write = Callable[[Account], Any]

WRITES: dict[str, tuple[Write, str, str]] = {
    # name: (the write, its audited action, the provider it is about)
    "create_saml_provider": (lambda a: create_saml(a, "new"), "CreateSAMLProvider", "saml/new"),
    "update_saml_provider": (
        lambda a: providers.update_saml_provider(A, find_saml(a), description="changed"),
        "UpdateSAMLProvider",
        "saml/okta",
    ),
    "delete_saml_provider": (
        lambda a: providers.delete_saml_provider(A, find_saml(a)),
        "DeleteSAMLProvider",
        "saml/okta",
    ),
    "create_oidc_provider": (lambda a: create_oidc(a, "new"), "CreateOIDCProvider", "oidc/new"),
    "update_oidc_provider": (
        lambda a: providers.update_oidc_provider(A, find_oidc(a), issuance_limit_hours=1),
        "UpdateOIDCProvider",
        "oidc/github",
    ),
    "add_client_id": (
        lambda a: providers.add_client_id(A, find_oidc(a), "app-2"),
        "AddClientIdToOIDCProvider",
        "oidc/github",
    ),
    "remove_client_id": (
        lambda a: providers.remove_client_id(A, find_oidc(a), "app-1"),
        "RemoveClientIdFromOIDCProvider",
        "oidc/github",
    ),
    "add_fingerprint": (
        lambda a: providers.add_fingerprint(A, find_oidc(a), "ab" * 20),
        "AddFingerprintToOIDCProvider",
        "oidc/github",
    ),
    "remove_fingerprint": (
        lambda a: providers.remove_fingerprint(A, find_oidc(a), OTHER_FINGERPRINT),
        "RemoveFingerprintFromOIDCProvider",
        "oidc/github",
    ),
    "delete_oidc_provider": (
        lambda a: providers.delete_oidc_provider(A, find_oidc(a)),
        "DeleteOIDCProvider",
        "oidc/github",
    ),
}


def find_saml(account: Account) -> SAMLProvider:
    return providers.find_saml_provider(account.pk, "okta")


def find_oidc(account: Account) -> OIDCProvider:
    return providers.find_oidc_provider(account.pk, "github")


@pytest.fixture
def both(account_a: Account) -> Account:
    """Account A with SAML provider ``okta`` and OIDC provider ``github`` (two of each list)."""
    create_saml(account_a, "okta")
    create_oidc(
        account_a,
        "github",
        client_ids="sts.aliyuncs.com,app-1",
        fingerprints=f"{FINGERPRINT},{OTHER_FINGERPRINT}",
    )
    return account_a


def version(account: Account) -> int:
    return Account.objects.get(pk=account.pk).version


def provider_arn(account: Account, which: str) -> str:
    kind, name = which.split("/")
    return f"acs:ram::{account.pk}:{kind}-provider/{name}"


def test_every_writing_provider_service_is_in_the_table() -> None:
    from tests.iam.test_versions import writing_functions

    assert writing_functions(providers) == set(WRITES)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_each_write_is_audited(both: Account, name: str) -> None:
    write, action, which = WRITES[name]
    write(both)
    event = AuditEvent.objects.filter(account_id=both.pk).first()
    assert event is not None
    assert (event.action, event.resource_arn) == (f"ram:{action}", provider_arn(both, which))


@pytest.mark.parametrize("name", sorted(WRITES))
def test_each_write_bumps_the_accounts_version(both: Account, name: str) -> None:
    before = version(both)
    WRITES[name][0](both)
    assert version(both) > before


def snapshot(account: Account) -> list[Any]:
    saml = list(SAMLProvider.objects.filter(account=account).values())
    oidc = list(OIDCProvider.objects.filter(account=account).values())
    return [saml, oidc, AuditEvent.objects.count(), version(account)]


REFUSED: dict[str, Write] = {
    "create_saml_provider, bad metadata": lambda a: providers.create_saml_provider(
        A, a, "new", metadata=b"<nope"
    ),
    "create_saml_provider, taken name": lambda a: create_saml(a, "OKTA"),
    "update_saml_provider, bad metadata": lambda a: providers.update_saml_provider(
        A, find_saml(a), metadata=metadata(entity(role="SPSSODescriptor")), description="new"
    ),
    "update_saml_provider, long description": lambda a: providers.update_saml_provider(
        A, find_saml(a), metadata=metadata(entity("https://new.example.com")), description="d" * 257
    ),
    "create_oidc_provider, bad issuer": lambda a: create_oidc(a, "new", issuer_url="http://x"),
    "update_oidc_provider, bad fingerprint": lambda a: providers.update_oidc_provider(
        A, find_oidc(a), client_ids="app-9", fingerprints="abc"
    ),
    "update_oidc_provider, bad limit": lambda a: providers.update_oidc_provider(
        A, find_oidc(a), description="new", issuance_limit_hours=500
    ),
    "add_client_id, duplicate": lambda a: providers.add_client_id(A, find_oidc(a), "app-1"),
    "remove_fingerprint, unknown": lambda a: providers.remove_fingerprint(
        A, find_oidc(a), "0" * 40
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_write_changes_nothing(both: Account, case: str) -> None:
    before = snapshot(both)
    with pytest.raises(ServiceError):
        REFUSED[case](both)
    assert snapshot(both) == before


def test_a_refused_update_leaves_the_providers_object_as_it_was(both: Account) -> None:
    """The console re-renders the form from it: half an update must not show."""
    saml, oidc = find_saml(both), find_oidc(both)
    with pytest.raises(ServiceError):
        providers.update_saml_provider(
            A, saml, metadata=metadata(entity("https://new.example.com")), description="d" * 257
        )
    with pytest.raises(ServiceError):
        providers.update_oidc_provider(A, oidc, client_ids="app-9", fingerprints="abc")
    assert (saml.entity_id, oidc.client_ids) == (ENTITY_ID, ["sts.aliyuncs.com", "app-1"])
