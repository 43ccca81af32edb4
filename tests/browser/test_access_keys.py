"""An administrator creates an AccessKey in a real browser: the secret is shown once, never again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iam.crypto import decrypt_secret
from iam.demo import seed_demo_world
from iam.models import AccessKey
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
    expect(dialog.get_by_test_id("copy-secret")).to_be_visible()  # once the <dialog> opened
    assert dialog.get_by_role("link", name="Download CSV").get_attribute("download")
    screenshot(page, "access-key-created")

    page.reload()
    assert page.get_by_role("heading", name="auditor").is_visible()
    assert secret not in page.content()
    assert page.locator("#access-keys code").count() == 1


def open_auditor_details(page) -> None:  # type: ignore[no-untyped-def]
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/users/auditor/")


def shown_key(page) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    dialog = page.get_by_test_id("access-key-created")
    return (
        dialog.get_by_test_id("access-key-id").inner_text(),
        dialog.get_by_test_id("access-key-secret").inner_text(),
    )


def test_a_double_click_creates_one_key_whose_secret_is_shown(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    open_auditor_details(page)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.method))
    page.get_by_role("button", name="Create AccessKey").dblclick()
    access_key_id, secret = shown_key(page)
    page.wait_for_load_state("networkidle")
    key = AccessKey.objects.get(user__name="auditor")
    assert posts.count("POST") == 1  # the button was disabled while the request ran
    assert (key.access_key_id, decrypt_secret(key.secret_ciphertext)) == (access_key_id, secret)


def test_closing_the_dialog_and_creating_again_makes_a_second_key(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    open_auditor_details(page)
    page.get_by_role("button", name="Create AccessKey").click()
    first, _ = shown_key(page)
    expect(page.locator("dialog#modal[open]")).to_be_visible()  # opened once htmx settled
    page.keyboard.press("Escape")
    expect(page.locator("dialog#modal[open]")).to_have_count(0)
    page.get_by_role("button", name="Create AccessKey").click()
    second, _ = shown_key(page)
    assert first != second
    assert AccessKey.objects.filter(user__name="auditor").count() == 2


def test_without_javascript_a_resent_create_shows_the_same_key_again(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    """Reloading the answer page sends the form again (as a double click may, in browsers that
    do not fold the two submissions into one): the server answers with the key the first
    submission created, secret included, and creates no second key."""
    seed_demo_world()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        open_auditor_details(page)
        posts: list[str] = []
        page.on("request", lambda request: posts.append(request.method))
        page.get_by_role("button", name="Create AccessKey").dblclick()
        first = shown_key(page)
        page.reload()
        again = shown_key(page)
        repeated = page.get_by_test_id("repeated-submission").is_visible()
    finally:
        context.close()
    key = AccessKey.objects.get(user__name="auditor")
    assert posts.count("POST") >= 2 and repeated
    assert first == again == (key.access_key_id, decrypt_secret(key.secret_ciphertext))
