"""The seed's story in a real browser: alice of company2 works as company1's ecs-admin role."""

from __future__ import annotations

import json
import re

import pytest

from iam.demo import seed_demo_world
from iam.models import Account
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def switch_to_ecs_admin(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("identity-menu").click()
    page.get_by_role("link", name="Switch Role").click()
    page.get_by_label("Account").fill("company1")
    page.get_by_label("Role name").fill("ecs-admin")
    page.get_by_label("Display name").fill("Prod ECS")
    page.get_by_role("button", name="Switch Role").click()


def remove_company2_from_trust(page) -> None:  # type: ignore[no-untyped-def]
    company1 = Account.objects.get(alias="company1")
    only_company1 = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{company1.pk}:root"]},
                }
            ],
        },
        indent=2,
    )
    page.goto("/roles/ecs-admin/trust-policy/")
    page.get_by_role("button", name="Edit trust policy").click()
    page.locator("textarea[name=trust_policy]").fill(only_company1)
    page.get_by_role("button", name=re.compile("^(Save|OK)")).first.click()
    page.get_by_text("Trust policy saved.").wait_for()


def test_alice_switches_works_as_the_role_switches_back_and_is_revoked(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    alice = new_page()
    log_on(alice, "alice@company2", "Company2-alice")
    switch_to_ecs_admin(alice)
    banner = alice.get_by_test_id("role-banner")
    assert "ecs-admin @ company1" in banner.inner_text()
    assert "signed in as alice@company2" in banner.inner_text()
    assert re.search(r"\d+:\d\d left", banner.inner_text())
    alice.goto("/roles/")
    assert alice.get_by_role("link", name="ecs-admin").first.is_visible()
    assert alice.get_by_role("link", name="devops").first.is_visible()
    screenshot(alice, "switched-role")
    assert alice.goto("/users/alice/").status == 404

    alice.goto("/")
    alice.get_by_role("button", name="Switch Back to Logon Identity").first.click()
    assert alice.get_by_test_id("role-banner").count() == 0
    assert "company2" in alice.locator("main").inner_text()

    alice.goto("/switch-role/")
    alice.locator("#recent-roles").get_by_role("button", name="Switch").first.click()
    assert "ecs-admin @ company1" in alice.get_by_test_id("role-banner").inner_text()

    admin = new_page()
    log_on(admin, "admin@company1", "Company1-admin")
    remove_company2_from_trust(admin)

    alice.goto("/roles/")
    assert alice.get_by_test_id("role-banner").count() == 0
    assert "no longer trusts" in alice.locator(".messages").inner_text()


def test_a_session_alice_switched_back_from_shows_as_ended(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    alice = new_page()
    log_on(alice, "alice@company2", "Company2-alice")
    switch_to_ecs_admin(alice)
    alice.get_by_role("button", name="Switch Back to Logon Identity").first.click()
    assert alice.get_by_test_id("role-banner").count() == 0

    admin = new_page()
    log_on(admin, "admin@company1", "Company1-admin")
    admin.goto("/roles/ecs-admin/sessions/")
    sessions = admin.locator("#role-sessions-list")
    state = sessions.get_by_test_id("session-state").first.inner_text()
    assert state.startswith("Ended ")
    assert "Switched back" in state
    assert sessions.get_by_test_id("active-session-count").inner_text() == "0 active"
    assert sessions.get_by_role("button", name="Revoke", exact=True).count() == 0
    screenshot(admin, "role-session-ended")
