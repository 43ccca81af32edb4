"""Role details tabs: Who can assume follows the trust policy saved on the Trust policy tab; the
tabs change by htmx, without a reload, and each has its own URL."""

from __future__ import annotations

import pytest

from iam.demo import seed_demo_world, trust_accounts
from iam.models import Account
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_saving_the_trust_policy_refreshes_who_can_assume(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    company2 = Account.objects.get(alias="company2")
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/roles/devops/who-can-assume/")
    who = page.locator("#role-who-can-assume")
    who.get_by_role("link", name="admin").wait_for()
    page.evaluate("() => { window.notReloaded = true; }")
    tabs = page.get_by_role("navigation", name="Role details")

    tabs.get_by_role("link", name="Trust policy").click()
    page.wait_for_url("**/roles/devops/trust-policy/")
    trust = page.locator("#role-trust")
    trust.get_by_text("Edit trust policy").click()
    trust.get_by_label("Trust policy document").fill(trust_accounts(company2.pk))
    trust.get_by_role("button", name="Save trust policy").click()
    trust.get_by_text("Trust policy saved.").wait_for()
    tabs.get_by_role("link", name="Who can assume").click()

    who.get_by_text(f"account company2 ({company2.pk})").first.wait_for()
    assert who.get_by_role("link", name="admin").count() == 0
    assert page.evaluate("() => window.notReloaded === true")
    screenshot(page, "who-can-assume-after-trust-change")
