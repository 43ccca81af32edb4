"""The README's screenshots, taken from the demo as `manage.py demo` serves it.

    uv run python -m tests.browser.readme_screenshots

starts the demo on a scratch SQLite database and a free port, walks the flows the README shows in
Debian's headless Chromium, and writes ``static/docs/*.png``. Run it after a change the pictures
show; commit what it writes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.conftest import CHROMIUM, log_on
from tests.servers import ROOT, free_port, server_env, serving

DOCS = ROOT / "static" / "docs"
VIEWPORT = {"width": 1280, "height": 800}


# The pictures of the console in English, and (suffix "-zh") those the README shows in Chinese.
LANGUAGES = [("en-US", ""), ("zh-CN", "-zh")]
IN_CHINESE = {"role-management", "switched-role"}


def save(page: Page, name: str, *, full_page: bool = False) -> None:
    suffix = page.context.suffix  # type: ignore[attr-defined]
    if suffix and name not in IN_CHINESE:
        return
    page.wait_for_load_state("networkidle")
    name += suffix
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=full_page)
    print(f"static/docs/{name}.png")


def admin_pictures(page: Page) -> None:
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/roles/")
    save(page, "role-management")
    page.goto("/roles/ecs-admin/")
    save(page, "role-details", full_page=True)
    page.goto("/policies/new/")
    page.locator("#editor-tab-visual").click()
    save(page, "policy-editor", full_page=True)


def alice_pictures(page: Page) -> None:
    log_on(page, "alice@company2", "Company2-alice")
    page.goto("/switch-role/")
    page.locator("#id_account").fill("company1")
    page.locator("#id_role_name").fill("ecs-admin")
    page.locator("#id_role_name").press("Enter")
    page.get_by_test_id("role-banner").wait_for()
    page.goto("/roles/")
    save(page, "switched-role")


def auditor_pictures(page: Page) -> None:
    log_on(page, "auditor@company1", "Company1-auditor")
    page.goto("/trust-map/")
    save(page, "trust-map")
    page.goto("/simulator/?principal=user:auditor&action=ram:CreateRole&resource=acs:ram::*:role/*")
    page.locator("main button[type=submit].primary").first.click()
    save(page, "policy-simulator")


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = server_env(f"sqlite:///{Path(folder) / 'ram-console.sqlite3'}")
        command = [sys.executable, "manage.py", "demo", "--port", str(port)]
        with serving(command, env, port, within=120), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            for locale, suffix in LANGUAGES:
                for pictures in (admin_pictures, alice_pictures, auditor_pictures):
                    context = browser.new_context(
                        viewport=VIEWPORT, base_url=f"http://127.0.0.1:{port}", locale=locale
                    )
                    context.suffix = suffix  # type: ignore[attr-defined]
                    pictures(context.new_page())
                    context.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
