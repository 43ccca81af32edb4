"""XML from outside (SAML metadata, SAML responses): parsed without DTDs, entities or network.

Read as UTF-8 whatever the document declares: in another encoding (UTF-16, UTF-7) a DOCTYPE
escapes a byte search, and libxml2 expands internal entities in attributes even with
``resolve_entities=False``; so the parsed tree is checked for a DTD as well.
"""

from __future__ import annotations

from lxml import etree


class UnsafeXml(ValueError):
    """Not XML we read; the message says why, in words for the caller's error."""


def parse(document: bytes) -> etree._Element:
    upper = document.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise UnsafeXml("a document type declaration is not allowed.")
    parser = etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(document, parser=parser)
    except etree.XMLSyntaxError as error:
        raise UnsafeXml(f"it is not well-formed XML ({error.msg}).") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXml("a document type declaration is not allowed.")
    return root
