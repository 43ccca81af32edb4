"""Fixtures that start real SAML Identity Providers (``tests.idp.saml.SamlIdp``) for a test.

The SP's entity id and ACS URL depend on where the test serves the app (``live_server``, the test
client's host), so the fixture is a factory the test calls with them. pysaml2 signs through the
``xmlsec1`` binary; without it the tests that ask for an IdP are skipped, saying so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.idp.saml import SamlIdp

XMLSEC1_MISSING = "xmlsec1 is not installed (apt-get install xmlsec1): pysaml2 cannot sign"

SamlIdpFactory = Callable[..., "SamlIdp"]


@pytest.fixture
def saml_idp_factory() -> Iterator[SamlIdpFactory]:
    """``saml_idp_factory(sp_entity_id, acs_url, users=None, **options)`` returns a started
    ``SamlIdp`` (options: ``sign_assertion``, ``sign_response``, ``lifetime``), stopped at
    teardown."""
    if shutil.which("xmlsec1") is None:
        print(XMLSEC1_MISSING)
        pytest.skip(XMLSEC1_MISSING)
    from tests.idp.saml import SamlIdp  # pysaml2 loads slowly: only for tests that use it

    started: list[SamlIdp] = []

    def start(
        sp_entity_id: str,
        acs_url: str,
        users: dict[str, dict[str, Any]] | None = None,
        **options: Any,
    ) -> SamlIdp:
        idp = SamlIdp(sp_entity_id, acs_url, users=users, **options).start()
        started.append(idp)
        return idp

    yield start
    for idp in started:
        idp.stop()
