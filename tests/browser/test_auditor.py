"""The auditor's tour in a real browser: who can assume a role, an event's diff, a simulated
denial with the deciding statement, and the trust map."""

from __future__ import annotations

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world
from iam.models import Role
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_auditor_reads_who_can_assume_events_simulates_and_opens_the_trust_map(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    services.update_role(
        SYSTEM_ACTOR,
        Role.objects.get(name="ecs-admin"),
        description="Operations staff of company2, reviewed",
    )
    page = new_page()
    log_on(page, "auditor@company1", "Company1-auditor")

    page.goto("/roles/ecs-admin/who-can-assume/")
    who = page.locator("#role-who-can-assume")
    who.get_by_text("account company2 (").first.wait_for()
    assert "cross-account" in who.inner_text() and "alice" not in who.inner_text()
    screenshot(page, "auditor-role-details")

    page.get_by_role("navigation", name="Role details").get_by_role("link", name="Events").click()
    page.locator("#role-events").get_by_role("link").first.wait_for()
    page.goto("/audit/?action=ram:UpdateRole")
    page.locator("#audit-rows").get_by_role("link").first.click()
    assert "What changed" in page.locator("main").inner_text()
    assert page.locator(".diff-added").count() >= 1

    page.goto("/simulator/?principal=user:auditor&action=ram:CreateRole&resource=acs:ram::*:role/*")
    page.get_by_role("button", name="Simulate").first.click()
    assert "Implicit deny" in page.locator("main").inner_text()
    screenshot(page, "policy-simulator")

    page.get_by_role("link", name="Trust map").first.click()
    svg = page.locator("svg").first
    assert "ecs-admin" in (svg.text_content() or "")
    screenshot(page, "trust-map")
