"""The console under its Content-Security-Policy in a real browser: every main page, and the htmx
interactions on them, run without one violation that Chromium reports."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from iam.demo import seed_demo_world
from tests.browser.conftest import ADMIN_PAGES, log_on, seed_admin_pages

pytestmark = pytest.mark.django_db(transaction=True)

# Registered before any page script runs (Playwright injects it past the page's policy): every
# `securitypolicyviolation` event is reported to the test, whatever page it happens on.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


class WatchedPage:
    """A page whose CSP violations (events and console messages) are collected."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.violations: list[str] = []
        page.expose_function("reportCspViolation", self.saw_violation)
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self.saw_console_message)

    def saw_violation(self, text: str) -> None:
        self.violations.append(text)

    def saw_console_message(self, message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.violations.append(message.text)

    def visit(self, path: str) -> str:
        """Open ``path`` and return its Content-Security-Policy header."""
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        self.page.wait_for_load_state("networkidle")
        return response.headers.get("content-security-policy", "")


@pytest.fixture
def watched(new_page) -> Iterator[Callable[[], WatchedPage]]:  # type: ignore[no-untyped-def]
    yield lambda: WatchedPage(new_page())


def test_every_main_page_carries_the_policy_and_breaks_none_of_it(watched) -> None:  # type: ignore[no-untyped-def]
    seed_admin_pages()
    admin = watched()
    policies = {"/logon/": admin.visit("/logon/")}
    log_on(admin.page, "admin@company1", "Company1-admin")
    policies.update({path: admin.visit(path) for path in ADMIN_PAGES})
    missing = [path for path, policy in policies.items() if "default-src 'self'" not in policy]
    inline = [path for path, policy in policies.items() if "unsafe-inline" in policy]
    assert (missing, inline) == ([], [])
    assert admin.violations == []


def test_the_policy_names_every_directive_we_rely_on(watched) -> None:  # type: ignore[no-untyped-def]
    policy = watched().visit("/logon/")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert (directives["base-uri"], directives["object-src"]) == (["'none'"], ["'none'"])
    assert directives["img-src"] == ["'self'", "data:"]


def test_htmx_dialogs_search_and_validation_run_under_the_policy(watched) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    admin = watched()
    log_on(admin.page, "admin@company1", "Company1-admin")
    page = admin.page
    admin.visit("/roles/")
    page.get_by_role("searchbox").first.press_sequentially("ecs", delay=20)
    page.get_by_role("link", name="devops").wait_for(state="detached")
    admin.visit("/roles/ecs-admin/")
    page.get_by_role("navigation", name="Role details").get_by_role(
        "link", name="Permissions"
    ).click()
    page.get_by_role("link", name="Authorize").first.click()
    page.locator("#authorize-dialog").wait_for()
    page.keyboard.press("Escape")
    admin.visit("/roles/_new/")
    page.get_by_text("User role", exact=True).click()
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Other account", exact=True).click()
    page.get_by_label("Trusted account ID").press_sequentially("company2", delay=20)
    page.locator("#trusted-account-status").get_by_text(re.compile(r"company2")).wait_for()
    admin.visit("/policies/new/")
    page.locator("textarea[name=document]").fill('{"Version": "1", "Statement": [')
    page.locator("#document-validation").get_by_text(re.compile(".+")).wait_for()
    assert admin.violations == []


def test_a_roles_colour_is_painted_without_inline_styles(watched) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    alice = watched()
    log_on(alice.page, "alice@company2", "Company2-alice")
    alice.visit("/switch-role/")
    alice.page.get_by_label("Account").fill("company1")
    alice.page.get_by_label("Role name").fill("ecs-admin")
    alice.page.get_by_label("Color").fill("#aa3300")
    alice.page.get_by_role("button", name="Switch Role").click()
    chip = alice.page.get_by_test_id("role-banner").locator(".role-chip")
    chip.wait_for()
    colour = chip.evaluate("element => getComputedStyle(element).backgroundColor")
    assert colour == "rgb(170, 51, 0)"
    served = alice.page.request.get(alice.page.url).text()
    assert 'data-color="#aa3300"' in served and "style=" not in served
    assert alice.violations == []


def test_the_watch_sees_an_inline_style_that_the_policy_refuses(watched) -> None:  # type: ignore[no-untyped-def]
    """The other tests' empty lists mean something: a violation is seen when there is one."""
    page = watched()
    page.visit("/logon/")
    page.page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>')"
    )
    page.page.wait_for_function("() => true")
    page.page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in page.violations), page.violations
