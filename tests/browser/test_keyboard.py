"""The console by keyboard: the skip link, dialogs that hold focus and give it back, and denied
buttons that say why."""

from __future__ import annotations

import pytest

from iam.demo import seed_demo_world
from tests.browser.conftest import log_on

pytestmark = pytest.mark.django_db(transaction=True)

FOCUSED_IN_DIALOG = "() => document.getElementById('modal').contains(document.activeElement)"


@pytest.fixture
def admin(new_page):  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    return page


def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(admin) -> None:  # type: ignore[no-untyped-def]
    admin.goto("/roles/")
    admin.keyboard.press("Tab")
    skip = admin.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("link => link === document.activeElement")
    admin.keyboard.press("Enter")
    assert admin.evaluate("() => document.activeElement.id") == "main"


def test_a_dialog_takes_focus_is_named_and_keeps_tab_inside(admin) -> None:  # type: ignore[no-untyped-def]
    admin.goto("/roles/")
    admin.locator("tr[data-role='devops']").get_by_role("link", name="Authorize").click()
    dialog = admin.get_by_role("dialog", name="Authorize role devops")
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert admin.evaluate(FOCUSED_IN_DIALOG)
    for _ in range(40):
        admin.keyboard.press("Tab")
        assert admin.evaluate(FOCUSED_IN_DIALOG)
    admin.keyboard.press("Shift+Tab")
    assert admin.evaluate(FOCUSED_IN_DIALOG)


def test_escape_closes_the_dialog_and_gives_focus_back_to_its_opener(admin) -> None:  # type: ignore[no-untyped-def]
    admin.goto("/roles/")
    opener = admin.locator("tr[data-role='devops']").get_by_role("link", name="Delete")
    opener.focus()
    admin.keyboard.press("Enter")
    admin.get_by_role("dialog", name="Delete role devops").wait_for()
    admin.keyboard.press("Escape")
    admin.get_by_role("dialog").wait_for(state="hidden")
    assert opener.evaluate("link => link === document.activeElement")


def test_a_denied_button_is_focusable_says_why_and_does_nothing(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    log_on(page, "auditor@company1", "Company1-auditor")
    page.goto("/roles/")
    delete = page.locator("tr[data-role='devops']").get_by_role("button", name="Delete")
    delete.focus()
    reason = page.locator(f"#{delete.get_attribute('aria-describedby')}")
    assert reason.is_visible() and "ram:DeleteRole" in reason.inner_text()
    page.keyboard.press("Enter")
    delete.click(force=True)  # Playwright itself refuses to click an aria-disabled button
    assert page.get_by_role("dialog").count() == 0 and page.url.endswith("/roles/")
