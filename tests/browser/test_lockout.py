"""A user is locked by failing on the real logon page; an administrator unlocks it; it logs on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iam.demo import seed_demo_world
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def try_logon(page, logon_name: str, password: str) -> str:  # type: ignore[no-untyped-def]
    page.goto("/logon/")
    page.get_by_label("Logon name").fill(logon_name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log on").click()
    return page.get_by_role("alert").inner_text()


def test_a_locked_user_is_unlocked_by_an_administrator(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    auditor = new_page()
    for _ in range(5):
        message = try_logon(auditor, "auditor@company1", "Wrong-pass-1")
        assert message == "The logon name or password is incorrect."
    message = try_logon(auditor, "auditor@company1", "Company1-auditor")
    assert "this logon name is locked until" in message
    screenshot(auditor, "logon-locked")

    admin = new_page()
    log_on(admin, "admin@company1", "Company1-admin")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    row = admin.get_by_role("row").filter(has_text="auditor@company1")
    assert "Locked until" in row.inner_text()
    row.get_by_role("link", name="auditor@company1").click()
    admin.wait_for_url("**/users/auditor/")
    expect(admin.get_by_test_id("locked")).to_be_visible()
    admin.get_by_role("button", name="Unlock").click()
    admin.wait_for_load_state()
    assert "is unlocked and can log on again" in admin.locator(".messages").inner_text()
    assert admin.get_by_test_id("locked").count() == 0
    screenshot(admin, "user-unlocked")

    log_on(auditor, "auditor@company1", "Company1-auditor")
    expect(auditor.get_by_role("heading", name="Overview")).to_be_visible()


def test_security_settings_are_saved_in_the_browser(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Security settings"
    ).click()
    page.get_by_label("Minimum length").fill("12")
    page.get_by_role("button", name="Save password policy").click()
    assert page.locator(".messages").inner_text() == "Password policy saved."
    assert page.get_by_label("Minimum length").input_value() == "12"
    page.get_by_label("Require MFA for console logon").check()
    page.get_by_label("Console logon session (hours)").fill("30")
    page.get_by_role("button", name="Save security preference").click()
    assert page.locator("#id_login_session_duration-error").inner_text() == (
        "Enter a whole number from 1 to 24."
    )
    screenshot(page, "security-settings")
