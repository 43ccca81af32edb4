"""SAML 2.0 for role-based SSO: our service provider's identity, and verifying what IdPs post.

Our SP entity id is ``SAML_SP_ENTITY_ID`` (by default ``<SITE_URL>/sso/saml/metadata``) and our
assertion consumer service (ACS) is ``<SITE_URL>/sso/saml/acs``: an assertion must name the first
as its audience and the second as its recipient, whether it reaches us through the browser (ACS)
or through ``AssumeRoleWithSAML``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import quoteattr

from django.conf import settings
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)

from iam import errors, safe_xml

ACS_PATH = "/sso/saml/acs"
METADATA_PATH = "/sso/saml/metadata"


def acs_url() -> str:
    return f"{settings.SITE_URL}{ACS_PATH}"


def sp_entity_id() -> str:
    return settings.SAML_SP_ENTITY_ID or f"{settings.SITE_URL}{METADATA_PATH}"


def sp_metadata() -> str:
    """Our SP metadata, for the IdP administrator: entity id and ACS (HTTP-POST binding)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f"entityID={quoteattr(sp_entity_id())}>\n"
        '  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        "    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
        "</md:NameIDFormat>\n"
        '    <md:AssertionConsumerService index="0" isDefault="true" '
        'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f"Location={quoteattr(acs_url())}/>\n"
        "  </md:SPSSODescriptor>\n"
        "</md:EntityDescriptor>\n"
    )


# --- verifying a response -------------------------------------------------------------------------

DS = "http://www.w3.org/2000/09/xmldsig#"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS = {"samlp": SAMLP, "saml": SAML}
RESPONSE_TAG = f"{{{SAMLP}}}Response"
ASSERTION_TAG = f"{{{SAML}}}Assertion"
ENCRYPTED_ASSERTION_TAG = f"{{{SAML}}}EncryptedAssertion"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ROLE_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/SessionDuration"
MAX_RESPONSE_BYTES = 200_000
# Public-key signatures over SHA-2 only: never HMAC (the key would be the public certificate),
# never SHA-1.
SIGNATURE_CONFIG = SignatureConfiguration(
    signature_methods=frozenset(
        {
            SignatureMethod.RSA_SHA256,
            SignatureMethod.RSA_SHA384,
            SignatureMethod.RSA_SHA512,
            SignatureMethod.ECDSA_SHA256,
            SignatureMethod.ECDSA_SHA384,
            SignatureMethod.ECDSA_SHA512,
        }
    ),
    digest_algorithms=frozenset(
        {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
    ),
)


@dataclass(frozen=True)
class RoleClaim:
    """One value of the Role attribute: ``<role ARN>,<provider ARN>`` (either order)."""

    role_arn: str
    provider_arn: str


@dataclass(frozen=True)
class VerifiedAssertion:
    """What a signed assertion that passed every check says."""

    assertion_id: str
    issuer: str
    subject: str
    subject_type: str
    recipient: str
    audience: str
    roles: tuple[RoleClaim, ...]
    session_name: str
    session_duration: int | None
    not_on_or_after: datetime

    @property
    def context(self) -> dict[str, str]:
        """The ``saml:*`` condition keys a trust policy can test."""
        return {
            "saml:recipient": self.recipient,
            "saml:sub": self.subject,
            "saml:sub_type": self.subject_type,
            "saml:iss": self.issuer,
            "saml:aud": self.audience,
        }


def refused(problem: str, message: str) -> errors.AuthenticationFailed:
    return errors.AuthenticationFailed(f"AuthenticationFail.SAMLAssertion.{problem}", message)


def decode_response(encoded: str) -> bytes:
    """``SAMLAssertion`` / the posted ``SAMLResponse``: base64 of a Response (or an Assertion)."""
    if not encoded:
        raise errors.InvalidParameter(
            "MissingSAMLAssertion", "SAMLAssertion is mandatory for this action."
        )
    if len(encoded) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise refused("Invalid", "The SAML assertion is too large.")
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise refused("Invalid", "The SAML assertion is not base64-encoded.") from None


def parse_document(document: bytes) -> etree._Element:
    try:
        return safe_xml.parse(document)
    except safe_xml.UnsafeXml as error:
        raise refused("Invalid", f"The SAML assertion is not usable: {error}") from None


def check_document(encoded: str) -> tuple[bytes, etree._Element]:
    """The checks that need no provider: base64, safe XML, a Response or an Assertion, exactly
    one assertion (against signature wrapping), none encrypted, a signature somewhere, and a
    Response's own status and destination. All of them come before the provider is looked up, so
    that what they answer cannot tell a registered provider from a missing one."""
    document = decode_response(encoded)
    root = parse_document(document)
    if root.tag not in (RESPONSE_TAG, ASSERTION_TAG):
        raise refused("Invalid", "The document is neither a SAML Response nor an Assertion.")
    if any(True for _ in root.iter(ENCRYPTED_ASSERTION_TAG)):
        raise refused("Invalid", "Encrypted assertions are not supported; send it signed.")
    if len(list(root.iter(ASSERTION_TAG))) != 1:
        raise refused("Invalid", "The SAML response must hold exactly one assertion.")
    if not any(True for _ in root.iter(f"{{{DS}}}Signature")):
        raise refused("Invalid", "The SAML assertion is not signed.")
    if root.tag == RESPONSE_TAG:
        check_response(root)
    return document, root


def not_signed_by_provider() -> errors.AuthenticationFailed:
    """The same answer whether the named provider is missing or did not sign: whether another
    account registered a provider of that name is not for an anonymous caller to learn."""
    return refused(
        "InvalidSignature",
        "The SAML assertion is not signed by an identity provider registered under that ARN.",
    )


def verify_response(
    encoded: str, *, entity_id: str, certificates: list[str], now: datetime
) -> VerifiedAssertion:
    """Check a base64 SAML Response (or bare Assertion) from the IdP ``entity_id`` and return what
    its signed assertion says. Values are read only from what the signature covers: the signed
    element must be the document's one assertion or the response that holds it."""
    document, root = check_document(encoded)
    (only,) = root.iter(ASSERTION_TAG)
    signed = signed_element(document, certificates, now)
    if signed.tag == RESPONSE_TAG:
        inner = signed.findall("saml:Assertion", NS)
        if len(inner) != 1:
            raise refused("Invalid", "The signed response must hold exactly one assertion.")
        assertion = inner[0]
    elif signed.tag == ASSERTION_TAG:
        assertion = signed
    else:
        raise refused(
            "InvalidSignature", "The signature covers neither the response nor its assertion."
        )
    if assertion.get("ID") != only.get("ID"):
        raise refused("InvalidSignature", "The signed assertion is not the one in the response.")
    return read_assertion(assertion, entity_id=entity_id, now=now)


def check_response(response: etree._Element) -> None:
    status = response.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != SUCCESS:
        raise refused("StatusNotSuccess", "The identity provider did not report success.")
    destination = response.get("Destination")
    if destination is not None and destination != acs_url():
        raise refused(
            "RecipientNotMatch", f"The response is addressed to {destination}, not to {acs_url()}."
        )


def signed_element(document: bytes, certificates: list[str], now: datetime) -> etree._Element:
    config = dataclasses.replace(SIGNATURE_CONFIG, verification_time=now)
    for certificate in certificates:
        try:
            result = XMLVerifier().verify(document, x509_cert=certificate, expect_config=config)
        except (InvalidInput, InvalidSignature, InvalidCertificate, InvalidDigest):
            continue
        except SignXMLException:
            raise refused(
                "InvalidSignature", "The SAML assertion's signature is not valid."
            ) from None
        return result.signed_xml  # type: ignore[union-attr]
    raise not_signed_by_provider()


def read_assertion(
    assertion: etree._Element, *, entity_id: str, now: datetime
) -> VerifiedAssertion:
    skew = timedelta(seconds=settings.FEDERATION_CLOCK_SKEW)
    issuer = text_of(assertion.find("saml:Issuer", NS))
    if issuer != entity_id:
        raise refused("IssuerNotMatch", f"The assertion's issuer is not {entity_id}.")
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise refused("Invalid", "The assertion has no Conditions.")
    expiries = [check_window(conditions, now, skew)]
    audiences = [
        text_of(element)
        for element in conditions.iterfind("saml:AudienceRestriction/saml:Audience", NS)
    ]
    if sp_entity_id() not in audiences:
        raise refused("AudienceNotMatch", f"The assertion's audience is not {sp_entity_id()}.")
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    subject = text_of(name_id)
    if not subject:
        raise refused("Invalid", "The assertion names no subject (NameID).")
    recipient = ""
    for confirmation in assertion.iterfind("saml:Subject/saml:SubjectConfirmation", NS):
        data = confirmation.find("saml:SubjectConfirmationData", NS)
        if confirmation.get("Method") != BEARER or data is None:
            continue
        recipient = data.get("Recipient", "")
        if recipient != acs_url():
            raise refused("RecipientNotMatch", f"The assertion's recipient is not {acs_url()}.")
        if data.get("NotOnOrAfter") is None:
            raise refused("Invalid", "The subject confirmation has no NotOnOrAfter.")
        expiries.append(check_window(data, now, skew))
    if not recipient:
        raise refused("Invalid", "The assertion has no bearer subject confirmation.")
    attributes = read_attributes(assertion)
    duration = attributes.get(SESSION_DURATION_ATTRIBUTE, [""])[0]
    if duration and not duration.isdigit():
        raise refused("Invalid", "The SessionDuration attribute is not a number of seconds.")
    return VerifiedAssertion(
        assertion_id=assertion.get("ID", ""),
        issuer=issuer,
        subject=subject,
        subject_type=name_id.get("Format", "") if name_id is not None else "",
        recipient=recipient,
        audience=sp_entity_id(),
        roles=tuple(read_role(value) for value in attributes.get(ROLE_ATTRIBUTE, [])),
        session_name=attributes.get(SESSION_NAME_ATTRIBUTE, [""])[0],
        session_duration=int(duration) if duration else None,
        not_on_or_after=min(expiry for expiry in expiries if expiry is not None)
        if any(expiries)
        else now + timedelta(hours=1),
    )


def check_window(element: etree._Element, now: datetime, skew: timedelta) -> datetime | None:
    """``NotBefore``/``NotOnOrAfter`` of an element, with the allowed clock skew."""
    not_before = instant(element.get("NotBefore"))
    not_on_or_after = instant(element.get("NotOnOrAfter"))
    if not_before is not None and now + skew < not_before:
        raise refused("NotYetValid", "The SAML assertion is not valid yet.")
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        raise refused("Expired", "The SAML assertion has expired.")
    return not_on_or_after


def instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise refused("Invalid", f"{value!r} is not a date and time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text_of(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def read_attributes(assertion: etree._Element) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        values = [text_of(value) for value in attribute.iterfind("saml:AttributeValue", NS)]
        attributes.setdefault(attribute.get("Name", ""), []).extend(values)
    return attributes


def read_role(value: str) -> RoleClaim:
    parts = [part.strip() for part in value.split(",")]
    roles = [part for part in parts if ":role/" in part]
    providers = [part for part in parts if ":saml-provider/" in part]
    if len(parts) != 2 or len(roles) != 1 or len(providers) != 1:
        return RoleClaim("", "")  # matches no request; listed for the pick page as unusable
    return RoleClaim(roles[0], providers[0])
