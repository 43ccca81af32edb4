"""The SAML test IdP is a real IdP: its metadata, its login page, and responses whose signatures
verify with an independent library (signxml) and that an independent SP (pysaml2's client)
accepts. The federation tests rely on all of this, so it is proved here, apart from the app."""

from __future__ import annotations

import base64
import urllib.parse
import urllib.request

import pytest
from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest, InvalidSignature

from tests.idp.saml import (
    LOGIN_ERROR,
    ROLE_ATTRIBUTE,
    ROLE_SESSION_NAME_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE,
    SamlLoginError,
    parse_forms,
)

SP_ENTITY_ID = "http://testserver/sso/saml/metadata"
ACS_URL = "http://testserver/sso/saml/acs"
ROLES = [
    "acs:ram::1234567890123456:role/admin,acs:ram::1234567890123456:saml-provider/corp-idp",
    "acs:ram::1234567890123456:role/reader,acs:ram::1234567890123456:saml-provider/corp-idp",
]
USERS = {
    "alice": {
        "password": "alice-pass-1",
        "roles": ROLES,
        "session_name": "alice@idp.example",
        "session_duration": 1800,
    },
    "bob": {"password": "bob-pass-1", "roles": ROLES[1:]},
}

NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
SIGNATURE_AT_ROOT = SignatureConfiguration(location="./")


@pytest.fixture
def idp(saml_idp_factory):  # type: ignore[no-untyped-def]
    return saml_idp_factory(SP_ENTITY_ID, ACS_URL, users=USERS)


def decode(saml_response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(saml_response))


def attributes(assertion: etree._Element) -> dict[str, list[str]]:
    return {
        attribute.get("Name"): [
            value.text for value in attribute.findall("saml:AttributeValue", NS)
        ]
        for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS)
    }


def verify(element: etree._Element, idp) -> etree._Element:  # type: ignore[no-untyped-def]
    """The element's own enveloped signature, checked against the IdP's certificate only."""
    result = XMLVerifier().verify(
        element, x509_cert=idp.certificate_pem, expect_config=SIGNATURE_AT_ROOT
    )
    return result.signed_xml


def test_metadata_names_the_idp_its_signing_certificate_and_sso_endpoint(idp) -> None:
    with urllib.request.urlopen(idp.metadata_url, timeout=10) as answer:
        served = answer.read()
    assert served == idp.metadata_xml

    root = etree.fromstring(idp.metadata_xml)
    assert root.tag == f"{{{NS['md']}}}EntityDescriptor"
    assert root.get("entityID") == idp.entity_id == f"{idp.base_url}/idp/metadata"
    descriptor = root.find("md:IDPSSODescriptor", NS)
    assert descriptor is not None
    signing = descriptor.find("md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data", NS)
    certificate_b64 = "".join(signing.findtext("ds:X509Certificate", namespaces=NS).split())
    published = x509.load_der_x509_certificate(base64.b64decode(certificate_b64))
    assert published == x509.load_pem_x509_certificate(idp.certificate_pem.encode())
    endpoints = {
        sso.get("Binding"): sso.get("Location")
        for sso in descriptor.findall("md:SingleSignOnService", NS)
    }
    assert endpoints == {
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": idp.sso_url,
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": idp.sso_url,
    }


def test_login_page_is_a_form_with_username_password_and_sign_in(idp) -> None:
    with urllib.request.urlopen(idp.login_url(), timeout=10) as answer:
        page = answer.read().decode()
    form = parse_forms(page).forms[0]
    assert form.method == "post"
    assert {"username", "password", "sp"} <= set(form.fields)
    assert 'type="password"' in page
    assert ">Sign in</button>" in page


def test_login_form_yields_a_signed_response_with_the_alibaba_role_attributes(idp) -> None:
    post = idp.sso_post("alice", relay_state="https://console.example/home")
    assert post.action == ACS_URL
    assert post.relay_state == "https://console.example/home"

    response = decode(post.saml_response)
    assert response.tag == f"{{{NS['samlp']}}}Response"
    assert response.get("Destination") == ACS_URL
    assert response.get("InResponseTo") is None  # IdP-initiated: unsolicited
    assert response.findtext("saml:Issuer", namespaces=NS) == idp.entity_id
    assert (
        response.find("samlp:Status/samlp:StatusCode", NS).get("Value")
        == "urn:oasis:names:tc:SAML:2.0:status:Success"
    )
    assert response.find("ds:Signature", NS) is None  # by default only the assertion is signed

    (assertion,) = response.findall("saml:Assertion", NS)
    assert assertion.findtext("saml:Issuer", namespaces=NS) == idp.entity_id
    assert assertion.findtext("saml:Subject/saml:NameID", namespaces=NS) == "alice"
    confirmation = assertion.find("saml:Subject/saml:SubjectConfirmation", NS)
    assert confirmation.get("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
    data = confirmation.find("saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == ACS_URL
    assert data.get("NotOnOrAfter")
    conditions = assertion.find("saml:Conditions", NS)
    assert conditions.get("NotBefore") and conditions.get("NotOnOrAfter")
    assert (
        conditions.findtext("saml:AudienceRestriction/saml:Audience", namespaces=NS) == SP_ENTITY_ID
    )
    assert assertion.find("saml:AuthnStatement", NS) is not None
    assert attributes(assertion) == {
        ROLE_ATTRIBUTE: ROLES,
        ROLE_SESSION_NAME_ATTRIBUTE: ["alice@idp.example"],
        SESSION_DURATION_ATTRIBUTE: ["1800"],
    }

    signature = assertion.find("ds:Signature", NS)
    assert (
        signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm")
        == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    assert signature.find("ds:SignedInfo/ds:Reference", NS).get("URI") == (
        "#" + assertion.get("ID")
    )
    signed = verify(assertion, idp)
    assert signed.get("ID") == assertion.get("ID")
    assert attributes(signed)[ROLE_ATTRIBUTE] == ROLES


def test_defaults_session_name_to_login_and_omits_an_unset_duration(idp) -> None:
    assertion = decode(idp.saml_response("bob")).find("saml:Assertion", NS)
    assert attributes(assertion) == {
        ROLE_ATTRIBUTE: ROLES[1:],
        ROLE_SESSION_NAME_ATTRIBUTE: ["bob"],
    }


def test_sign_response_signs_the_response_instead(idp) -> None:
    idp.sign_response, idp.sign_assertion = True, False
    response = decode(idp.saml_response("alice"))
    assert response.find("saml:Assertion/ds:Signature", NS) is None
    signed = verify(response, idp)
    assert signed.tag == f"{{{NS['samlp']}}}Response"
    assert signed.get("Destination") == ACS_URL


def test_signs_both_when_asked(idp) -> None:
    idp.sign_response = idp.sign_assertion = True
    response = decode(idp.saml_response("alice"))
    assert verify(response, idp).tag == f"{{{NS['samlp']}}}Response"
    assert verify(response.find("saml:Assertion", NS), idp).tag == f"{{{NS['saml']}}}Assertion"


def test_a_tampered_or_foreign_response_does_not_verify(idp, saml_idp_factory) -> None:
    assertion = decode(idp.saml_response("bob")).find("saml:Assertion", NS)
    assertion.find("saml:Subject/saml:NameID", NS).text = "alice"
    with pytest.raises(InvalidDigest):
        verify(assertion, idp)

    other = saml_idp_factory(SP_ENTITY_ID, ACS_URL, users=USERS)
    foreign = decode(other.saml_response("bob")).find("saml:Assertion", NS)
    with pytest.raises(InvalidSignature):
        verify(foreign, idp)


def test_wrong_password_shows_the_form_again_with_an_error(idp) -> None:
    with urllib.request.urlopen(idp.login_url(), timeout=10) as answer:
        form = parse_forms(answer.read().decode()).forms[0]
    body = urllib.parse.urlencode({**form.fields, "username": "alice", "password": "nope"})
    with urllib.request.urlopen(
        urllib.parse.urljoin(idp.base_url, form.action), data=body.encode(), timeout=10
    ) as answer:
        page = answer.read().decode()
    assert LOGIN_ERROR in page
    assert "SAMLResponse" not in page
    assert {"username", "password"} <= set(parse_forms(page).forms[0].fields)

    with pytest.raises(SamlLoginError, match="Incorrect username or password"):
        idp.saml_response("alice", "nope")
    with pytest.raises(SamlLoginError):
        idp.saml_response("mallory", "whatever")


def test_sp_initiated_redirect_binding_answers_the_request_to_an_independent_sp(idp) -> None:
    """pysaml2's own SP sends an AuthnRequest and accepts the answer: signature, InResponseTo,
    audience and recipient as a third-party SP checks them."""
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(
        {
            "entityid": SP_ENTITY_ID,
            "xmlsec_binary": idp.xmlsec_binary,
            "metadata": {"inline": [idp.metadata_xml.decode()]},
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                }
            },
        }
    )
    sp = Saml2Client(config)
    request_id, http = sp.prepare_for_authenticate(
        entityid=idp.entity_id, relay_state="back-to-42", binding=BINDING_HTTP_REDIRECT
    )
    location = dict(http["headers"])["Location"]
    assert location.startswith(idp.sso_url + "?SAMLRequest=")

    with urllib.request.urlopen(location, timeout=10) as answer:
        form = parse_forms(answer.read().decode()).forms[0]
    body = urllib.parse.urlencode({**form.fields, "username": "alice", "password": "alice-pass-1"})
    with urllib.request.urlopen(
        urllib.parse.urljoin(idp.base_url, form.action), data=body.encode(), timeout=30
    ) as answer:
        (post,) = parse_forms(answer.read().decode()).forms
    assert post.action == ACS_URL
    assert post.fields["RelayState"] == "back-to-42"

    accepted = sp.parse_authn_request_response(
        post.fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/"}
    )
    assert accepted.in_response_to == request_id
    assert accepted.get_subject().text == "alice"
    assert accepted.ava[ROLE_ATTRIBUTE] == ROLES
