"""Long names do not widen the page: at 1400 px and at 400 px no page scrolls sideways (tables
scroll inside their cards), and the switched-role banner keeps Switch Back in reach."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.models import Account
from tests.browser.conftest import log_on

pytestmark = pytest.mark.django_db(transaction=True)

LONG_ROLE = ("role-operations-eu-central-production-" * 2)[:63] + "9"
LONG_USER = ("user.operations.eu-central.production." * 2)[:63] + "9"
LONG_POLICY = ("PolicyOperationsEuCentralProduction" * 2)[:63] + "9"
LONG_TEXT = "Operations of the eu-central production cluster, " * 5
PAGES = [
    "/roles/",
    f"/roles/{LONG_ROLE}/",
    f"/roles/{LONG_ROLE}/trust-policy/",
    f"/roles/{LONG_ROLE}/who-can-assume/",
    "/users/",
    "/policies/",
    "/audit/",
]
PAGE_WIDER_THAN_WINDOW = "() => document.documentElement.scrollWidth > window.innerWidth"


def seed_long_names() -> None:
    seed_demo_world()
    company1 = Account.objects.get(alias="company1")
    services.create_role(
        SYSTEM_ACTOR,
        company1,
        LONG_ROLE,
        trust_policy=trust_accounts(company1.pk),
        description=LONG_TEXT[:1024],
    )
    services.create_user(SYSTEM_ACTOR, company1, LONG_USER, display_name=LONG_USER[:12])
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}],
    }
    services.create_policy(
        SYSTEM_ACTOR, company1, LONG_POLICY, document=document, description=LONG_TEXT[:1024]
    )


def wider_pages(page) -> list[str]:  # type: ignore[no-untyped-def]
    wider = []
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if page.evaluate(PAGE_WIDER_THAN_WINDOW):
            wider.append(path)
    return wider


def test_long_names_do_not_widen_the_page_at_1400_pixels(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_long_names()
    page = new_page({"width": 1400, "height": 900})
    log_on(page, "admin@company1", "Company1-admin")
    assert len(LONG_ROLE) == len(LONG_USER) == len(LONG_POLICY) == 64
    assert wider_pages(page) == []


def test_at_400_pixels_tables_scroll_inside_their_cards(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_long_names()
    page = new_page({"width": 400, "height": 800})
    log_on(page, "admin@company1", "Company1-admin")
    assert wider_pages(page) == []
    page.goto("/users/")
    scrolls_inside = page.locator("table.list").first.evaluate(
        "table => { const box = table.parentElement.closest('.card, .table-scroll') || table.parentElement;"
        " return getComputedStyle(box).overflowX === 'auto'; }"
    )
    assert scrolls_inside


def test_at_400_pixels_the_switched_role_banner_keeps_switch_back_in_reach(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page({"width": 400, "height": 800})
    log_on(page, "alice@company2", "Company2-alice")
    page.goto("/switch-role/")
    page.get_by_label("Account").fill("company1")
    page.get_by_label("Role name").fill("ecs-admin")
    page.get_by_label("Display name").fill("Production ECS administrators of company one")
    page.get_by_role("button", name="Switch Role").click()
    switch_back = page.get_by_test_id("role-banner").get_by_role("button", name="Switch Back")
    expect(switch_back).to_be_visible()
    assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)
    switch_back.click()
    page.get_by_test_id("role-banner").wait_for(state="detached")
