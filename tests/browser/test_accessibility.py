"""axe-core over the console's main pages, dialogs and states: no serious or critical finding.

axe-core comes from the npm registry, pinned in tests/a11y (``npm ci --prefix tests/a11y``, which
``.ci/run`` does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from iam.demo import seed_demo_world
from tests.browser.conftest import ADMIN_PAGES, log_on, seed_admin_pages

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"

RUN_AXE = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help}\\n      `
      + violation.nodes.slice(0, 5).map((node) => node.target.join(" ")).join("\\n      "));
}
"""


class AxePage:
    """A page axe-core can be run on, collecting the serious and critical findings by page."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.findings: list[str] = []

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("networkidle")
        if not self.page.evaluate("() => Boolean(window.axe)"):
            self.page.add_script_tag(path=str(AXE))
        for finding in self.page.evaluate(RUN_AXE):
            self.findings.append(f"{label}: {finding}")

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        self.check(path)

    def report(self) -> str:
        return "\n".join(["serious or critical axe-core findings:", *self.findings])


@pytest.fixture
def axe_page(browser, live_server) -> Iterator[Callable[..., AxePage]]:  # type: ignore[no-untyped-def]
    assert AXE.exists(), f"{AXE} is missing: run npm ci --prefix tests/a11y"
    contexts = []

    def open_page(width: int = 1280, height: int = 800) -> AxePage:
        # bypass_csp is for this test only: Playwright injects axe-core as an inline script, which
        # the console's policy (rightly) refuses. The pages under their policy: test_csp.py.
        context = browser.new_context(
            viewport={"width": width, "height": height},
            base_url=live_server.url,
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return AxePage(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def test_the_logon_page_has_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    page = axe_page()
    page.visit("/logon/")
    assert page.findings == [], page.report()


def test_the_main_pages_have_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    seed_admin_pages()
    page = axe_page()
    log_on(page.page, "admin@company1", "Company1-admin")
    for path in ADMIN_PAGES:
        page.visit(path)
    assert page.findings == [], page.report()


def test_the_auditors_pages_with_denied_buttons_have_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = axe_page()
    log_on(page.page, "auditor@company1", "Company1-auditor")
    for path in ["/roles/", "/roles/ecs-admin/permissions/", "/users/admin/", "/policies/"]:
        page.visit(path)
    assert page.findings == [], page.report()


def test_every_step_of_the_create_role_wizard_has_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = axe_page()
    browser_page = page.page
    log_on(browser_page, "admin@company1", "Company1-admin")
    page.visit("/roles/_new/")
    browser_page.get_by_text("User role", exact=True).click()
    browser_page.get_by_role("button", name="Next").click()
    browser_page.get_by_text("Other account", exact=True).click()
    browser_page.get_by_label("Trusted account ID").press_sequentially("company2", delay=20)
    browser_page.locator("#trusted-account-status").get_by_text(re.compile("company2")).wait_for()
    page.check("wizard: trusted entity")
    browser_page.get_by_role("button", name="Next").click()
    browser_page.get_by_label("Role name").press_sequentially("ops-a11y", delay=20)
    browser_page.locator("#role-name-status").get_by_text("Available.").wait_for()
    page.check("wizard: role name")
    browser_page.get_by_role("button", name="Create").click()
    browser_page.get_by_role("heading", name="Role created").wait_for()
    page.check("wizard: role created")
    assert page.findings == [], page.report()


def test_the_authorize_dialog_has_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = axe_page()
    log_on(page.page, "admin@company1", "Company1-admin")
    page.visit("/roles/")
    page.page.locator("tr[data-role='devops']").get_by_role("link", name="Authorize").click()
    page.page.get_by_role("dialog", name="Authorize role devops").wait_for()
    page.check("authorize dialog")
    assert page.findings == [], page.report()


def test_the_switched_role_banner_has_no_serious_findings(axe_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = axe_page()
    log_on(page.page, "alice@company2", "Company2-alice")
    page.visit("/switch-role/")
    page.page.get_by_label("Account").fill("company1")
    page.page.get_by_label("Role name").fill("ecs-admin")
    page.page.get_by_label("Color").fill("#aa3300")
    page.page.get_by_role("button", name="Switch Role").click()
    page.page.get_by_test_id("role-banner").wait_for()
    page.check("switched to ecs-admin")
    assert page.findings == [], page.report()
