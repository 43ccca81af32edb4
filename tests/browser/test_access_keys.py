"""An administrator creates an AccessKey in a real browser: the secret is shown once, never again."""

from __future__ import annotations

import pytest

from iam.demo import seed_demo_world
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_sees_a_new_secret_once(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="auditor@company1").click()
    page.wait_for_url("**/users/auditor/")
    screenshot(page, "user-details")

    page.get_by_role("button", name="Create AccessKey").click()
    dialog = page.get_by_test_id("access-key-created")
    secret = dialog.get_by_test_id("access-key-secret").inner_text()
    assert len(secret) == 30
    assert dialog.get_by_test_id("copy-secret").is_visible()
    assert dialog.get_by_role("link", name="Download CSV").get_attribute("download")
    screenshot(page, "access-key-created")

    page.reload()
    assert page.get_by_role("heading", name="auditor").is_visible()
    assert secret not in page.content()
    assert page.locator("#access-keys code").count() == 1
