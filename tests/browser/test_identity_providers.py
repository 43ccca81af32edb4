"""Identity providers in a real browser: an administrator uploads a SAML IdP's metadata file, reads
what the console took from it and what to give the IdP, then creates a role that trusts it."""

from __future__ import annotations

import json
import re

import pytest

from iam.demo import seed_demo_world
from iam.models import Account, Role
from sts import saml
from tests.browser.conftest import log_on, screenshot
from tests.console.test_providers import idp_metadata

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_uploads_saml_metadata_and_creates_a_role_trusting_it(new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    company1 = Account.objects.get(alias="company1")
    metadata = tmp_path / "okta-metadata.xml"
    metadata.write_bytes(idp_metadata("https://okta.example.com/saml", common_name="okta signing"))
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Identity providers"
    ).click()
    page.get_by_role("heading", name="Identity providers").wait_for()
    page.get_by_role("link", name="Create SAML IdP").click()
    page.get_by_label("Provider name").fill("okta")
    page.get_by_label("Description").fill("Staff sign-in")
    page.get_by_label("Metadata file").set_input_files(str(metadata))
    page.get_by_role("button", name="Create").click()

    page.get_by_role("heading", name="okta", exact=True).wait_for()
    basic = page.locator("#provider-basic").inner_text()
    assert f"acs:ram::{company1.pk}:saml-provider/okta" in basic
    assert "https://okta.example.com/saml" in basic
    assert "CN=okta signing" in page.locator("#provider-certificates").inner_text()
    ours = page.locator("#service-provider")
    assert saml.acs_url() in ours.inner_text() and saml.sp_entity_id() in ours.inner_text()
    download = ours.get_by_role("link", name="Download SP metadata")
    assert download.get_attribute("href") == "/sso/saml/metadata"
    screenshot(page, "identity-provider-details")

    page.get_by_role("link", name="Create a role").click()
    page.get_by_text("Identity provider", exact=True).click()
    page.get_by_role("button", name="Next").click()
    # The OIDC choice shows that kind's providers (none): the step comes again over htmx.
    page.get_by_text("OIDC", exact=True).click()
    page.get_by_test_id("no-provider").wait_for()
    page.get_by_text("SAML", exact=True).click()
    assert page.get_by_label("SAML identity provider").input_value() == "okta"
    page.get_by_role("button", name="Next").click()

    actors = page.get_by_test_id("trusted-actors")
    actors.wait_for()
    assert actors.inner_text() == (
        f"Users of SAML identity provider okta (when saml:recipient is {saml.acs_url()})"
    )
    page.get_by_label("Role name").fill("sso-admins")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Role created").wait_for()
    shown = json.loads(page.get_by_test_id("trust-document").inner_text())
    assert shown["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Federated": [f"acs:ram::{company1.pk}:saml-provider/okta"]},
            "Condition": {"StringEquals": {"saml:recipient": saml.acs_url()}},
        }
    ]
    assert json.loads(Role.objects.get(account=company1, name="sso-admins").trust_policy) == shown
    screenshot(page, "identity-provider-role")

    page.goto("/identity-providers/saml/okta/")
    roles = page.locator("#provider-roles")
    assert re.search(r"\bsso-admins\b", roles.inner_text())
