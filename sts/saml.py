"""SAML 2.0 for role-based SSO: our service provider's identity, and verifying what IdPs post.

Our SP entity id is ``SAML_SP_ENTITY_ID`` (by default ``<SITE_URL>/sso/saml/metadata``) and our
assertion consumer service (ACS) is ``<SITE_URL>/sso/saml/acs``: an assertion must name the first
as its audience and the second as its recipient, whether it reaches us through the browser (ACS)
or through ``AssumeRoleWithSAML``.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from django.conf import settings

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
