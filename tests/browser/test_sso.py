"""Role-based SSO in the real browser: a federated user signs in on the identity provider's own
login page (pysaml2 for SAML, oidc-provider for OIDC) and lands in the console as a role."""

from __future__ import annotations

import pytest

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.models import Policy
from sts import saml
from sts.models import RoleSession
from tests.federation import federated_trust


@pytest.fixture
def sso_page(browser, live_server, settings):  # type: ignore[no-untyped-def]
    """A browser context that accepts the test IdP's self-signed certificate."""
    settings.SITE_URL = live_server.url
    context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_saml_sign_in_through_the_idp_login_page_lands_in_the_console_as_a_role(  # type: ignore[no-untyped-def]
    sso_page, saml_idp_factory
) -> None:
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    idp = saml_idp_factory(saml.sp_entity_id(), saml.acs_url())
    provider = providers.create_saml_provider(
        SYSTEM_ACTOR, account, "corp-idp", metadata=idp.metadata_xml
    )
    condition = {"StringEquals": {"saml:recipient": saml.acs_url()}}
    roles = [
        services.create_role(
            SYSTEM_ACTOR, account, name, trust_policy=federated_trust(provider.arn, condition)
        )
        for name in ("sso-admin", "sso-reader")
    ]
    services.attach_policy(
        SYSTEM_ACTOR, roles[0], Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    )
    idp.add_user(
        "alice",
        "idp-pass-1",
        [f"{role.arn},{provider.arn}" for role in roles],
        session_name="alice@corp.example",
    )
    page = sso_page

    page.goto(idp.login_url())
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("idp-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sso/roles/")
    page.get_by_label("sso-admin @ corp").check()
    page.get_by_role("button", name="Sign in").click()

    banner = page.get_by_test_id("role-banner")
    assert "sso-admin @ corp" in banner.inner_text()
    assert "federated as alice via corp-idp" in banner.inner_text()
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("heading", name="Users").wait_for()
    banner.get_by_role("button", name="Log off").click()
    page.wait_for_url("**/logon/")
    session = RoleSession.objects.get()
    assert session.source_identity == f"{provider.arn}/alice" and session.ended is not None


def test_oidc_sign_in_through_the_providers_login_and_consent_pages(  # type: ignore[no-untyped-def]
    sso_page, live_server, oidc_idp_factory
) -> None:
    idp = oidc_idp_factory(
        clients={"ram-console": {"redirect_uris": [f"{live_server.url}/sso/oidc/callback"]}}
    )
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account,
        "corp-oidc",
        issuer_url=idp.issuer,
        client_ids="ram-console",
        fingerprints=idp.fingerprint,
    )
    services.create_role(
        SYSTEM_ACTOR,
        account,
        "oidc-reader",
        trust_policy=federated_trust(provider.arn, {"StringEquals": {"oidc:aud": "ram-console"}}),
    )
    page = sso_page

    page.goto("/logon/")
    page.get_by_role("link", name="Sign in with an identity provider (SSO)").click()
    page.get_by_label("Enterprise alias or account ID").fill("corp")
    page.get_by_label("Identity provider name").fill("corp-oidc")
    page.get_by_role("button", name="Continue").click()
    page.locator('input[name="login"]').fill("alice")
    page.locator('input[name="password"]').fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()

    banner = page.get_by_test_id("role-banner")
    assert "oidc-reader @ corp" in banner.inner_text()
    assert "federated as alice via corp-oidc" in banner.inner_text()
    assert RoleSession.objects.get().source_identity == f"{provider.arn}/alice"
