"""Role Management in a real browser: create a role with the wizard, authorize it, find it."""

from __future__ import annotations

import json
import re

import pytest

from iam.demo import seed_demo_world
from iam.models import Account, Role
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_and_authorizes_a_role(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roles").click()
    page.get_by_role("heading", name="Role Management").wait_for()
    page.get_by_role("link", name="New Role").click()

    page.get_by_text("User role", exact=True).click()
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Other account", exact=True).click()
    page.get_by_label("Trusted account ID").press_sequentially("company2", delay=20)
    page.locator("#trusted-account-status").get_by_text(
        re.compile(r"Account company2 \(\d{16}\)")
    ).wait_for()
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Role name").press_sequentially("ops-test", delay=20)
    page.locator("#role-name-status").get_by_text("Available.").wait_for()
    page.get_by_label("Description").fill("Operations from company2")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Role created").wait_for()

    page.get_by_role("link", name="Authorize").click()
    dialog = page.locator("#authorize-dialog")
    dialog.wait_for()
    dialog.get_by_role("checkbox", name=re.compile(r"^AliyunOSSReadOnlyAccess ")).check()
    dialog.get_by_role("checkbox", name=re.compile(r"^ReadOnlyAccess ")).check()
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="detached")
    page.get_by_text("Authorized: ").wait_for()

    page.get_by_role("link", name="Close").click()
    page.get_by_role("heading", name="Role Management").wait_for()
    # Typing before the page's scripts ran would go unheard: htmx binds the box on load.
    page.wait_for_load_state("load")
    page.get_by_role("searchbox", name="Search roles").fill("ops-te")
    page.wait_for_function(
        "() => document.querySelectorAll('#role-table tbody tr[data-role]').length === 1"
    )
    row = page.locator("tr[data-role='ops-test']")
    assert "company2" in row.inner_text()
    screenshot(page, "role-management")

    row.get_by_role("link", name="ops-test").click()
    page.get_by_role("heading", name="ops-test").wait_for()
    assert re.search(r"acs:ram::\d{16}:role/ops-test", page.locator("#role-basic").inner_text())
    tabs = page.get_by_role("navigation", name="Role details")
    tabs.get_by_role("link", name="Trust policy").click()
    trust = page.locator("#role-trust")
    trust.wait_for()
    assert "Users of account company2 who hold sts:AssumeRole" in trust.inner_text()
    tabs.get_by_role("link", name="Permissions").click()
    page.wait_for_url("**/roles/ops-test/permissions/")
    permissions = page.locator("#role-permissions").inner_text()
    assert "ReadOnlyAccess" in permissions and "AliyunOSSReadOnlyAccess" in permissions
    screenshot(page, "role-details")


def test_admin_creates_a_cross_account_role_through_the_json_editor(new_page) -> None:  # type: ignore[no-untyped-def]
    """The editor follows the chosen account until it is edited; step 3 shows the document the
    role gets; the role is created with exactly it."""
    seed_demo_world()
    company2 = Account.objects.get(alias="company2")
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/roles/_new/")
    page.get_by_text("User role", exact=True).click()
    page.get_by_role("button", name="Next").click()

    page.get_by_text("Other account", exact=True).click()
    page.get_by_label("Trusted account ID").press_sequentially("company2", delay=20)
    page.get_by_text("Edit the trust policy as JSON (optional)").click()
    editor = page.get_by_label("Trust policy", exact=True)
    page.wait_for_function(
        "id => document.getElementById('id_trust_policy').value.includes(id)", arg=company2.pk
    )
    # The editor was just swapped in: htmx binds its live check when the swap settles (20 ms).
    page.locator("#trust-editor.htmx-added").wait_for(state="detached")
    document = json.loads(editor.input_value())
    document["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "ops-7"}}
    editor.fill(json.dumps(document, indent=2))
    page.locator("#trust-policy-status").get_by_text("Valid trust policy.").wait_for()
    page.get_by_role("button", name="Next").click()

    shown = page.get_by_test_id("trust-document")
    shown.wait_for()
    assert json.loads(shown.inner_text()) == document
    actors = page.get_by_test_id("trusted-actors").inner_text()
    assert "Users of account company2 who hold sts:AssumeRole" in actors
    screenshot(page, "role-wizard-trust-json")
    page.get_by_label("Role name").fill("cross-json")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Role created").wait_for()
    role = Role.objects.get(account__alias="company1", name="cross-json")
    assert json.loads(role.trust_policy) == document


def test_auditor_sees_roles_but_cannot_change_them(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "auditor@company1", "Company1-auditor")
    page.goto("/roles/")
    assert page.get_by_role("button", name="New Role").is_disabled()
    row = page.locator("tr[data-role='ecs-admin']")
    assert row.get_by_role("button", name="Authorize").is_disabled()
    assert "ram:DeleteRole" in row.get_by_role("button", name="Delete").get_attribute("title")
    row.get_by_role("link", name="ecs-admin").click()
    tabs = page.get_by_role("navigation", name="Role details")
    tabs.get_by_role("link", name="Permissions").click()
    page.get_by_role("heading", name="Permissions").wait_for()
    assert page.locator("#role-permissions").get_by_role("button", name="Authorize").is_disabled()
    tabs.get_by_role("link", name="Trust policy").click()
    assert page.get_by_role("button", name="Edit trust policy").is_disabled()
