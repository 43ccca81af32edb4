"""Tags in a real browser: the Tags card on a role's details adds and removes a tag in place
(htmx, no reload), and the Role Management list filters by tag as one types."""

from __future__ import annotations

import pytest

from iam import services, tags
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.models import Account, Role
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def new_role(name: str, **tag_values: str) -> Role:
    account = Account.objects.get(alias="company1")
    role = services.create_role(
        SYSTEM_ACTOR, account, name, trust_policy=trust_accounts(account.pk)
    )
    if tag_values:
        tags.tag_resources(SYSTEM_ACTOR, [role], tag_values)
    return role


def test_the_tags_card_adds_and_removes_a_tag_in_place(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    role = new_role("tagged-app")
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto(f"/roles/{role.name}/")
    page.evaluate("window.notReloaded = true")
    card = page.locator("#resource-tags")
    card.get_by_label("Key").fill("env")
    card.get_by_label("Value").fill("dev")
    card.get_by_role("button", name="Add tag").click()
    page.locator('#resource-tags tr[data-tag="env"]').wait_for()
    screenshot(page, "tags-card")
    page.locator("#resource-tags").get_by_role("button", name="Remove tag env").click()
    page.locator('#resource-tags tr[data-tag="env"]').wait_for(state="detached")
    assert page.evaluate("window.notReloaded") is True
    assert tags.tags_of(role) == {}


def test_the_role_list_filters_by_tag_as_one_types(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    new_role("dev-app", env="dev")
    new_role("prod-app", env="prod")
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/roles/")
    page.get_by_label("Filter roles by tag").fill("env:dev")
    page.locator('tr[data-role="prod-app"]').wait_for(state="detached")
    assert page.locator('tr[data-role="dev-app"]').count() == 1
    assert "tag=env%3Adev" in page.url
