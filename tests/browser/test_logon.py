"""A person logs on and off in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iam.demo import seed_demo_world
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_logs_on_and_sees_the_overview(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert "admin@company1" in page.get_by_test_id("identity-menu").inner_text()
    screenshot(page, "overview")


def test_wrong_password_gets_one_message_for_both(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    page.goto("/logon/")
    page.get_by_label("Logon name").fill("admin@company1")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log on").click()
    assert page.get_by_role("alert").inner_text() == "The logon name or password is incorrect."
