"""Identity provider pages (SAML and OIDC): list, create, details, edit, delete; and the create-role
wizard's third trusted entity type, Identity provider."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, OIDCProvider, Role, SAMLProvider
from sts import saml
from tests.certificates import self_signed

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FINGERPRINT = "a" * 40
ISSUER = "https://idp.example.com"

# --- test metadata --------------------------------------------------------------------------------


def idp_metadata(
    entity_id: str = "https://idp.example.com/saml",
    *,
    common_name: str = "idp.example.com",
    days: int = 365,
) -> bytes:
    """An IdP's SAML 2.0 metadata with one signing certificate and a single sign-on service."""
    certificate = self_signed(common_name, days=days, valid_since=timedelta(days=400))
    encoded = base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{encoded}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="{entity_id}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
""".encode()


def upload(document: bytes, name: str = "idp-metadata.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, document, content_type="text/xml")


# --- personas' objects --------------------------------------------------------------------------


@pytest.fixture
def okta(account_a):  # type: ignore[no-untyped-def]
    return providers.create_saml_provider(
        SYSTEM_ACTOR, account_a, "okta", metadata=idp_metadata(), description="Staff SSO"
    )


@pytest.fixture
def github(account_a):  # type: ignore[no-untyped-def]
    return providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account_a,
        "github",
        issuer_url="https://token.actions.githubusercontent.com",
        client_ids=["sts.example", "ci"],
        fingerprints=[FINGERPRINT],
    )


@pytest.fixture
def okta_b(account_b):  # type: ignore[no-untyped-def]
    return providers.create_saml_provider(
        SYSTEM_ACTOR, account_b, "okta-b", metadata=idp_metadata("https://b.example/saml")
    )


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


def detail(provider) -> str:  # type: ignore[no-untyped-def]
    kind = "saml" if isinstance(provider, SAMLProvider) else "oidc"
    return url("provider_detail", kind, provider.name)


def edit(provider) -> str:  # type: ignore[no-untyped-def]
    kind = "saml" if isinstance(provider, SAMLProvider) else "oidc"
    return url("provider_edit", kind, provider.name)


def delete(provider) -> str:  # type: ignore[no-untyped-def]
    kind = "saml" if isinstance(provider, SAMLProvider) else "oidc"
    return url("provider_delete", kind, provider.name)


def oidc_fields(**fields: str) -> dict[str, str]:
    return {
        "name": "gitlab",
        "issuer_url": ISSUER,
        "client_ids": "one\ntwo",
        "fingerprints": FINGERPRINT,
        "issuance_limit_hours": "12",
        "description": "",
        **fields,
    }


# --- list ---------------------------------------------------------------------------------------


def test_list_redirects_anonymous_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(url("provider_list"))
    assert response.status_code == 302
    assert reverse("console:logon") in response.url


def test_list_is_403_naming_the_action(client, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(url("provider_list"))
    assert response.status_code == 403
    assert b"ram:ListSAMLProviders" in response.content


def test_list_shows_both_kinds_of_this_account_only(client, admin_a, okta, github, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(url("provider_list")).content.decode()
    assert okta.arn in text and github.arn in text
    assert "https://idp.example.com/saml" in text
    assert "okta-b" not in text


def test_the_nav_links_to_identity_providers(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(url("provider_list")).content.decode()
    assert f'<a href="{url("provider_list")}" aria-current="page">Identity providers</a>' in text


@pytest.mark.parametrize(("days", "warning"), [(10, "Expires within 30 days"), (-1, "Expired")])
def test_list_warns_of_certificates_near_or_past_expiry(
    client, admin_a, account_a, days, warning
) -> None:  # type: ignore[no-untyped-def]
    metadata = idp_metadata(days=days)
    providers.create_saml_provider(SYSTEM_ACTOR, account_a, "old", metadata=metadata)
    client.force_login(admin_a)
    assert warning in client.get(url("provider_list")).content.decode()


def test_list_has_no_warning_for_a_certificate_valid_for_a_year(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(url("provider_list")).content.decode()
    assert "Expires within" not in text and "Expired" not in text


def test_list_costs_the_same_queries_for_1_and_5_providers(  # type: ignore[no-untyped-def]
    client, admin_a, account_a, django_assert_num_queries
) -> None:
    metadata = idp_metadata()
    providers.create_saml_provider(SYSTEM_ACTOR, account_a, "p0", metadata=metadata)
    client.force_login(admin_a)
    client.get(url("provider_list"))  # warm the session and policy caches
    with CaptureQueriesContext(connection) as one:
        client.get(url("provider_list"))
    queries_for_one = len(one)  # now: the next request starts a new query log
    for index in range(1, 5):
        providers.create_saml_provider(SYSTEM_ACTOR, account_a, f"p{index}", metadata=metadata)
    client.get(url("provider_list"))  # a change bumped the account's version
    with django_assert_num_queries(queries_for_one):
        client.get(url("provider_list"))


def test_list_shows_only_the_kinds_the_user_may_list(
    client, user_a, account_a, okta, github
) -> None:  # type: ignore[no-untyped-def]
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ram:ListSAMLProviders", "Resource": "*"}],
    }
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "saml-only", document=document)
    services.attach_policy(SYSTEM_ACTOR, user_a, policy)
    client.force_login(user_a)
    text = client.get(url("provider_list")).content.decode()
    assert okta.arn in text and github.arn not in text
    assert "OIDC identity providers are not shown" in text


def test_auditor_sees_the_list_with_create_disabled(client, auditor_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.get(url("provider_list"))
    assert response.status_code == 200
    assert b"okta" in response.content
    assert b"ram:CreateSAMLProvider" in response.content


# --- create SAML --------------------------------------------------------------------------------


def test_uploaded_metadata_creates_a_saml_provider(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": "adfs", "description": "AD FS", "metadata_file": upload(idp_metadata())}
    response = client.post(url("saml_provider_create"), data)
    provider = SAMLProvider.objects.get(account=account_a, name="adfs")
    assert response.status_code == 302
    assert response.url == detail(provider)
    assert provider.entity_id == "https://idp.example.com/saml"


def test_pasted_metadata_creates_a_saml_provider(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": "pasted", "metadata_xml": idp_metadata().decode()}
    client.post(url("saml_provider_create"), data)
    assert SAMLProvider.objects.filter(account=account_a, name="pasted").exists()


def test_create_saml_records_an_audit_event(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    client.post(
        url("saml_provider_create"), {"name": "adfs", "metadata_file": upload(idp_metadata())}
    )
    event = AuditEvent.objects.get(action="ram:CreateSAMLProvider")
    assert event.resource_arn == f"acs:ram::{account_a.pk}:saml-provider/adfs"
    assert event.effective_identity == admin_a.arn


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<not xml", "it is not well-formed XML"),
        (b"<root/>", "it has no SAML 2.0 EntityDescriptor."),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "a document type declaration is not allowed."),
        ("<x>é</x>".encode("utf-16"), "The metadata document is not usable"),
    ],
)
def test_bad_metadata_file_is_a_field_error(client, admin_a, document, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": "bad", "metadata_file": upload(document)}
    response = client.post(url("saml_provider_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["metadata_file"][0].find(message) >= 0
    assert not SAMLProvider.objects.exists()


def test_bad_pasted_metadata_is_an_error_on_the_text(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": "bad", "metadata_xml": "<EntityDescriptor/>"}
    response = client.post(url("saml_provider_create"), data)
    assert "metadata_xml" in response.context["form"].errors
    assert not SAMLProvider.objects.exists()


def test_metadata_is_required(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url("saml_provider_create"), {"name": "none"})
    assert response.context["form"].errors["metadata_file"] == [
        "Upload the identity provider's metadata file, or paste its XML."
    ]


def test_file_and_text_together_are_refused(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    metadata = idp_metadata()
    data = {"name": "two", "metadata_file": upload(metadata), "metadata_xml": metadata.decode()}
    response = client.post(url("saml_provider_create"), data)
    assert "not both" in response.content.decode()
    assert not SAMLProvider.objects.exists()


@pytest.mark.parametrize("name", ["-bad", "a/b", "x" * 129, ""])
def test_bad_provider_name_is_a_field_error(client, admin_a, name) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": name, "metadata_file": upload(idp_metadata())}
    response = client.post(url("saml_provider_create"), data)
    assert "name" in response.context["form"].errors
    assert not SAMLProvider.objects.exists()


def test_duplicate_name_is_a_field_error(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"name": "OKTA", "metadata_file": upload(idp_metadata())}
    response = client.post(url("saml_provider_create"), data)
    assert response.context["form"].errors["name"] == [
        "An identity provider with this name already exists."
    ]


def test_auditor_cannot_create_a_saml_provider(client, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    data = {"name": "sneaky", "metadata_file": upload(idp_metadata())}
    response = client.post(url("saml_provider_create"), data)
    assert response.status_code == 403
    assert b"ram:CreateSAMLProvider" in response.content
    assert not SAMLProvider.objects.exists()


def test_a_resent_create_form_creates_once(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    token = "t" * 24
    for _ in range(2):
        data = {"name": "once", "metadata_file": upload(idp_metadata()), "form_token": token}
        response = client.post(url("saml_provider_create"), data)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="ram:CreateSAMLProvider").count() == 1


# --- create OIDC --------------------------------------------------------------------------------


def test_creates_an_oidc_provider(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url("oidc_provider_create"), oidc_fields())
    provider = OIDCProvider.objects.get(account=account_a, name="gitlab")
    assert response.url == detail(provider)
    assert provider.client_ids == ["one", "two"]
    assert provider.issuance_limit_hours == 12


def test_create_oidc_records_an_audit_event(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    client.post(url("oidc_provider_create"), oidc_fields())
    event = AuditEvent.objects.get(action="ram:CreateOIDCProvider")
    assert event.resource_arn == f"acs:ram::{account_a.pk}:oidc-provider/gitlab"


def test_the_oidc_form_offers_twelve_hours(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(url("oidc_provider_create")).content.decode()
    assert 'name="issuance_limit_hours" value="12"' in text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"issuer_url": "http://idp.example.com"}, "issuer_url"),
        ({"issuer_url": "https://idp.example.com/?q=1"}, "issuer_url"),
        ({"fingerprints": "abc"}, "fingerprints"),
        ({"fingerprints": ""}, "fingerprints"),
        ({"client_ids": ""}, "client_ids"),
        ({"issuance_limit_hours": "169"}, "issuance_limit_hours"),
        ({"issuance_limit_hours": "many"}, "issuance_limit_hours"),
    ],
)
def test_bad_oidc_input_is_a_field_error(client, admin_a, fields, field) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url("oidc_provider_create"), oidc_fields(**fields))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not OIDCProvider.objects.exists()


def test_every_bad_oidc_field_is_shown_at_once(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = oidc_fields(issuer_url="ftp://x", fingerprints="zz")
    errors = client.post(url("oidc_provider_create"), fields).context["form"].errors
    assert set(errors) == {"issuer_url", "fingerprints"}


def test_auditor_cannot_create_an_oidc_provider(client, auditor_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(url("oidc_provider_create"), oidc_fields())
    assert response.status_code == 403
    assert b"ram:CreateOIDCProvider" in response.content


# --- details ------------------------------------------------------------------------------------


def test_saml_details_show_the_metadata_and_our_service_provider(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(detail(okta)).content.decode()
    assert "CN=idp.example.com" in text
    assert "https://idp.example.com/saml/sso" in text
    assert saml.acs_url() in text and saml.sp_entity_id() in text
    assert 'href="/sso/saml/metadata"' in text


def test_oidc_details_show_issuer_client_ids_and_fingerprints(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(detail(github)).content.decode()
    assert "https://token.actions.githubusercontent.com" in text
    assert "<code>ci</code>" in text and FINGERPRINT in text
    assert "Our service provider" not in text


def test_details_name_the_roles_that_trust_the_provider(
    client, admin_a, account_a, okta, github
) -> None:  # type: ignore[no-untyped-def]
    def trusting(name: str, arn: str) -> None:
        document = json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Federated": [arn]},
                    }
                ],
            }
        )
        services.create_role(SYSTEM_ACTOR, account_a, name, trust_policy=document)

    trusting("sso-admins", okta.arn)
    trusting("ci-deploy", github.arn)
    client.force_login(admin_a)
    roles = [role.name for role in client.get(detail(okta)).context["roles"]]
    assert roles == ["sso-admins"]


def test_another_accounts_provider_is_404(client, admin_a, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(detail(okta_b)).status_code == 404


def test_another_accounts_provider_looks_like_a_missing_one(client, admin_a, okta_b) -> None:  # type: ignore[no-untyped-def]
    def page(name: str) -> str:
        text = client.get(url("provider_detail", "saml", name)).content.decode()
        return re.sub(r"[A-Za-z0-9]{64}", "CSRF", text).replace(name, "X")  # masked CSRF tokens

    client.force_login(admin_a)
    assert page("okta-b") == page("nowhere")


def test_an_unknown_provider_type_is_404(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(url("provider_detail", "ldap", "okta")).status_code == 404


def test_auditor_sees_details_with_edit_and_delete_disabled(client, auditor_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.get(detail(okta))
    assert response.status_code == 200
    assert b"ram:UpdateSAMLProvider" in response.content
    assert b"ram:DeleteSAMLProvider" in response.content


def test_details_are_403_without_get_permission(client, user_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(detail(okta))
    assert response.status_code == 403
    assert b"ram:GetSAMLProvider" in response.content


# --- edit ---------------------------------------------------------------------------------------


def test_replacing_the_metadata_reads_the_new_entity_id(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    new = idp_metadata("https://new.example.com/saml")
    data = {"description": "Renewed", "metadata_file": upload(new)}
    response = client.post(edit(okta), data)
    okta.refresh_from_db()
    assert response.url == detail(okta)
    assert okta.entity_id == "https://new.example.com/saml"
    assert okta.description == "Renewed"


def test_editing_the_description_keeps_the_metadata(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    before = okta.metadata
    client.post(edit(okta), {"description": "Only this"})
    okta.refresh_from_db()
    assert okta.description == "Only this"
    assert okta.metadata == before


def test_edit_records_an_audit_event(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    client.post(edit(okta), {"description": "Audited"})
    event = AuditEvent.objects.get(action="ram:UpdateSAMLProvider")
    assert event.details["after"]["Description"] == "Audited"


def test_bad_replacement_metadata_changes_nothing(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"description": "Not saved", "metadata_file": upload(b"<broken")}
    response = client.post(edit(okta), data)
    okta.refresh_from_db()
    assert "metadata_file" in response.context["form"].errors
    assert okta.description == "Staff SSO"
    assert not AuditEvent.objects.filter(action="ram:UpdateSAMLProvider").exists()


def test_oidc_edit_changes_client_ids_fingerprints_and_limit(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {
        "client_ids": "ci\nnew",
        "fingerprints": "B" * 40,
        "issuance_limit_hours": "2",
        "description": "CI",
    }
    client.post(edit(github), data)
    github.refresh_from_db()
    assert github.client_ids == ["ci", "new"]
    assert github.fingerprints == ["b" * 40]
    assert github.issuance_limit_hours == 2


def test_oidc_edit_form_shows_one_client_id_a_line(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    form = client.get(edit(github)).context["form"]
    assert form["client_ids"].value() == "sts.example\nci"


def test_bad_oidc_edit_changes_nothing(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"client_ids": "x", "fingerprints": "nope", "issuance_limit_hours": "12"}
    response = client.post(edit(github), data)
    github.refresh_from_db()
    assert "fingerprints" in response.context["form"].errors
    assert github.client_ids == ["sts.example", "ci"]


def test_auditor_cannot_edit(client, auditor_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(edit(okta), {"description": "sneaky"})
    assert response.status_code == 403
    assert b"ram:UpdateSAMLProvider" in response.content


def test_another_accounts_provider_cannot_be_edited(client, admin_a, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(edit(okta_b), {"description": "x"}).status_code == 404
    okta_b.refresh_from_db()
    assert okta_b.description == ""


# --- delete -------------------------------------------------------------------------------------


def test_delete_asks_first(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(delete(okta), **HTMX)
    assert b"Delete identity provider okta" in response.content
    assert SAMLProvider.objects.filter(pk=okta.pk).exists()


@pytest.mark.parametrize("fixture", ["okta", "github"])
def test_delete_removes_the_provider_and_records_it(client, admin_a, fixture, request) -> None:  # type: ignore[no-untyped-def]
    provider = request.getfixturevalue(fixture)
    client.force_login(admin_a)
    response = client.post(delete(provider), **HTMX)
    assert response["HX-Redirect"] == url("provider_list")
    assert not type(provider).objects.filter(pk=provider.pk).exists()
    assert AuditEvent.objects.filter(
        resource_arn=provider.arn, action__startswith="ram:Delete"
    ).exists()


def test_auditor_cannot_delete(client, auditor_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(delete(github))
    assert response.status_code == 403
    assert b"ram:DeleteOIDCProvider" in response.content
    assert OIDCProvider.objects.filter(pk=github.pk).exists()


def test_another_accounts_provider_cannot_be_deleted(client, admin_a, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(delete(okta_b)).status_code == 404
    assert SAMLProvider.objects.filter(pk=okta_b.pk).exists()


# --- the create-role wizard ---------------------------------------------------------------------

WIZARD = "/roles/_new/"


def wizard(client, step: int, **fields: str):  # type: ignore[no-untyped-def]
    data = {"role_type": "idp", "step": str(step), **fields}
    return client.post(WIZARD, data, **HTMX)


def test_the_wizard_offers_identity_provider_roles(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = client.get(WIZARD).content.decode()
    assert 'value="idp"' in text
    assert f'href="{url("provider_list")}"' in text  # none yet: where to create one


def test_step_two_explains_how_to_create_a_missing_provider(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    text = wizard(client, 2, idp_type="oidc").content.decode()
    assert "This account has no OIDC identity provider yet." in text
    assert f'href="{url("oidc_provider_create")}"' in text


def test_step_two_offers_the_accounts_providers_only(client, admin_a, okta, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = wizard(client, 2, idp_type="saml")
    assert [provider.name for provider in response.context["idp_providers"]] == ["okta"]


def test_the_wizard_trusts_a_saml_provider_for_our_acs_url(
    client, admin_a, account_a, okta
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    wizard(client, 4, idp_type="saml", idp_name="okta", role_name="sso-admins")
    role = Role.objects.get(account=account_a, name="sso-admins")
    assert json.loads(role.trust_policy) == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Federated": [f"acs:ram::{account_a.pk}:saml-provider/okta"]},
                "Condition": {"StringEquals": {"saml:recipient": saml.acs_url()}},
            }
        ],
    }


def test_the_wizard_trusts_an_oidc_provider_for_a_client_and_subject(
    client, admin_a, account_a, github
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = {"idp_type": "oidc", "idp_name": "github", "oidc_aud": "ci", "oidc_sub": "repo:a/b"}
    wizard(client, 4, role_name="ci-deploy", **fields)
    statement = json.loads(Role.objects.get(account=account_a, name="ci-deploy").trust_policy)[
        "Statement"
    ][0]
    assert statement["Principal"] == {
        "Federated": [f"acs:ram::{account_a.pk}:oidc-provider/github"]
    }
    assert statement["Condition"] == {"StringEquals": {"oidc:aud": "ci", "oidc:sub": "repo:a/b"}}


def test_the_oidc_subject_is_optional(client, admin_a, account_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = {"idp_type": "oidc", "idp_name": "github", "oidc_aud": "sts.example"}
    wizard(client, 4, role_name="any-user", **fields)
    document = json.loads(Role.objects.get(account=account_a, name="any-user").trust_policy)
    assert document["Statement"][0]["Condition"] == {"StringEquals": {"oidc:aud": "sts.example"}}


def test_the_oidc_audience_must_be_a_client_id_of_the_provider(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = {"idp_type": "oidc", "idp_name": "github", "oidc_aud": "someone-else"}
    response = wizard(client, 4, role_name="forged", **fields)
    assert "Choose one of github&#x27;s client IDs." in response.content.decode()
    assert not Role.objects.filter(name="forged").exists()


def test_the_wizard_refuses_another_accounts_provider(client, admin_a, okta, okta_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = wizard(client, 4, idp_type="saml", idp_name="okta-b", role_name="stolen")
    assert b"Choose an identity provider of this account." in response.content
    assert not Role.objects.filter(name="stolen").exists()


def test_step_three_says_who_is_trusted_in_words(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = wizard(client, 3, idp_type="saml", idp_name="okta")
    assert response.context["trust_sentences"] == [
        f"Users of SAML identity provider okta (when saml:recipient is {saml.acs_url()})"
    ]


def test_the_editor_follows_the_chosen_provider(client, admin_a, account_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = {"role_type": "idp", "idp_type": "oidc", "idp_name": "github", "oidc_aud": "ci"}
    response = client.post(reverse("console:role_wizard_trust"), fields, **HTMX)
    assert f"acs:ram::{account_a.pk}:oidc-provider/github" in response.context["state"].trust_policy


def test_the_role_list_names_the_provider(client, admin_a, okta) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    wizard(client, 4, idp_type="saml", idp_name="okta", role_name="sso-admins")
    assert b"SAML identity provider okta" in client.get(url("role_list")).content


def test_an_oidc_statement_in_words(client, admin_a, github) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    fields = {"idp_type": "oidc", "idp_name": "github", "oidc_aud": "ci", "oidc_sub": "repo:a/b"}
    response = wizard(client, 3, **fields)
    assert response.context["trust_sentences"] == [
        "Users of OIDC identity provider github (when oidc:aud is ci and oidc:sub is repo:a/b)"
    ]
