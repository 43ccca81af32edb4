"""In a real browser: several users created at once with generated passwords, shown once (Copy
says Copied), one of which logs on; and several members added to a group in one dialog."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world
from iam.models import Account, Group
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_generated_passwords_are_shown_once_and_log_on(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/users/new/")
    page.get_by_label("Users").fill("carol,Carol Jones\ndave")
    page.get_by_label("Console access with a generated password for each user").check()
    page.get_by_role("button", name="Create").click()

    shown = page.get_by_test_id("users-created")
    shown.get_by_test_id("logon-name").first.wait_for()
    logon_names = shown.get_by_test_id("logon-name").all_inner_texts()
    passwords = shown.get_by_test_id("password").all_inner_texts()
    assert logon_names == ["carol@company1", "dave@company1"]
    screenshot(page, "users-created")

    copy_all = shown.get_by_test_id("copy-all")
    copy_all.click()
    expect(copy_all).to_have_text("Copied")
    page.get_by_role("status").filter(has_text="Copied to the clipboard.").wait_for(
        state="attached"
    )
    assert page.evaluate("navigator.clipboard.readText()").startswith("carol@company1 ")
    expect(copy_all).to_have_text("Copy all", timeout=4000)  # back after two seconds

    page.goto("/users/carol/")
    assert passwords[0] not in page.content()

    carol = new_page()
    log_on(carol, "carol@company1", passwords[0])
    assert carol.get_by_test_id("identity-menu").inner_text().startswith("carol@company1")


def test_several_members_are_added_in_one_dialog(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    account = Account.objects.get(alias="company1")
    group = services.create_group(SYSTEM_ACTOR, account, "qa")
    for name in ("carol", "dave", "erin"):
        services.create_user(SYSTEM_ACTOR, account, name)
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/groups/qa/")
    page.get_by_role("link", name="Add members").click()
    dialog = page.get_by_test_id("add-members")
    dialog.get_by_label("Filter users").fill("car")
    dialog.locator("input[value=dave]").wait_for(state="detached")
    dialog.get_by_label("carol@company1").check()
    dialog.get_by_label("Filter users").fill("dav")
    dialog.locator("input[value=dave]").wait_for()
    assert dialog.get_by_label("carol@company1").is_checked()  # a filter keeps ticked users
    dialog.get_by_label("dave@company1").check()
    screenshot(page, "add-members")
    dialog.get_by_role("button", name="Add selected").click()
    page.wait_for_url("**/groups/qa/")
    page.locator("#group-members").get_by_text("dave@company1").wait_for()
    assert sorted(group.members.values_list("name", flat=True)) == ["carol", "dave"]
    assert not Group.objects.get(pk=group.pk).members.filter(name="erin").exists()
