"""Browser tests: Playwright drives Debian's headless Chromium against pytest-django's live server.

Chromium comes from Debian (``apt-get install chromium``, which ``.ci/run`` does); Playwright's
own browser download is not used. Where ``/usr/bin/chromium`` is missing the tests are skipped
with that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The demo administrator's main pages, which the CSP and accessibility tests visit one by one.
ADMIN_PAGES = [
    "/",
    "/roles/",
    "/roles/ecs-admin/",
    "/roles/ecs-admin/permissions/",
    "/roles/ecs-admin/trust-policy/",
    "/roles/ecs-admin/sessions/",
    "/roles/ecs-admin/events/",
    "/roles/ecs-admin/who-can-assume/",
    "/roles/_new/",
    "/users/",
    "/users/auditor/",
    "/policies/",
    "/policies/new/",
    "/audit/",
    "/simulator/",
    "/trust-map/",
    "/identity-providers/",
    "/switch-role/",
    "/security-settings/",
    "/security-credentials/",
    "/mfa/",
    "/users/auditor/mfa/",
    "/groups/",
    "/groups/operators/",
    "/policies/System/AliyunECSFullAccess/",
]

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make to
# arrange data happen outside it, so Django's async-safety guard does not apply here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium); browser tests need it"
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def system_policies(transactional_db: None) -> None:
    """Transactional tests flush the tables, data migrations included; put them back."""
    from iam.system_policies import ensure_system_policies

    ensure_system_policies()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):  # type: ignore[no-untyped-def]
    """Open pages in fresh browser contexts (one per persona); closed after the test."""
    contexts = []

    def open_page(viewport: dict[str, int] | None = None, locale: str = "en-US"):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800},
            base_url=live_server.url,
            locale=locale,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def seed_admin_pages() -> None:
    """The demo world and a group, so each of ADMIN_PAGES has something to show."""
    from iam import services
    from iam.audit import SYSTEM_ACTOR
    from iam.demo import seed_demo_world
    from iam.models import Account

    seed_demo_world()
    company1 = Account.objects.get(alias="company1")
    services.create_group(SYSTEM_ACTOR, company1, "operators", comments="On call")


def log_on(page, logon_name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Log on through the logon page, whatever language it speaks."""
    page.goto("/logon/")
    page.locator("#id_logon_name").fill(logon_name)
    page.locator("#id_password").fill(password)
    page.locator("form[action='/logon/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/logon/" not in url)


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot as a test artifact (not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
