"""The console in Chinese, in a real browser asking for it: alice switches to ecs-admin and back,
an administrator creates a role with the wizard, each by the visible Chinese labels; the header's
中文 / English switch."""

from __future__ import annotations

import re

import pytest

from iam.demo import seed_demo_world
from iam.models import Role, User
from tests.browser.conftest import log_on, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

CHINESE = "zh-CN"


def log_on_in_chinese(page, logon_name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/logon/")
    page.get_by_label("登录名称").fill(logon_name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: "/logon/" not in url)


def test_alice_switches_role_and_back_in_chinese(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    alice = new_page(locale=CHINESE)
    log_on_in_chinese(alice, "alice@company2", "Company2-alice")
    alice.get_by_test_id("identity-menu").click()
    alice.get_by_role("link", name="切换身份").click()
    alice.get_by_label("账号", exact=True).fill("company1")
    alice.get_by_label("角色名称", exact=True).fill("ecs-admin")
    alice.get_by_role("button", name="切换身份").click()

    banner = alice.get_by_test_id("role-banner")
    assert "ecs-admin @ company1" in banner.inner_text()
    assert "登录身份：alice@company2" in banner.inner_text()
    assert re.search(r"剩余 \d+:\d\d", banner.inner_text())
    alice.get_by_role("navigation", name="主导航").get_by_role("link", name="角色").click()
    alice.get_by_role("heading", name="角色管理").wait_for()
    screenshot(alice, "switched-role-zh")

    alice.get_by_role("button", name="返回登录身份").first.click()
    assert alice.get_by_test_id("role-banner").count() == 0
    assert "company2" in alice.locator("main").inner_text()


def test_admin_creates_a_cross_account_role_with_the_wizard_in_chinese(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page(locale=CHINESE)
    log_on_in_chinese(page, "admin@company1", "Company1-admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="角色").click()
    page.get_by_role("heading", name="角色管理").wait_for()
    page.get_by_role("link", name="创建角色").click()

    page.get_by_text("普通角色", exact=True).click()
    page.get_by_role("button", name="下一步").click()
    page.get_by_text("其他阿里云账号", exact=True).click()
    page.get_by_label("受信任的阿里云账号 ID").press_sequentially("company2", delay=20)
    page.locator("#trusted-account-status").get_by_text(
        re.compile(r"company2（\d{16}）")
    ).wait_for()
    page.get_by_role("button", name="下一步").click()

    page.get_by_label("角色名称").press_sequentially("ops-zh", delay=20)
    page.locator("#role-name-status").get_by_text("可以使用。").wait_for()
    page.get_by_label("备注").fill("公司二的运维人员")
    screenshot(page, "role-wizard-zh")
    page.get_by_role("button", name="创建", exact=True).click()
    page.get_by_role("heading", name="角色已创建").wait_for()
    role = Role.objects.get(account__alias="company1", name="ops-zh")
    assert role.description == "公司二的运维人员"
    assert "company2" not in role.trust_policy  # an account id, not its alias


def test_the_header_switch_changes_the_language_and_remembers_it(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    page = new_page()  # an English browser
    page.goto("/logon/")
    page.get_by_role("button", name="中文").click()
    page.get_by_label("登录名称").wait_for()
    page.get_by_role("button", name="English").click()
    log_on(page, "admin@company1", "Company1-admin")
    page.get_by_role("button", name="中文").click()
    page.get_by_role("link", name="角色").first.wait_for()
    assert User.objects.get(name="admin").language == "zh-hans"
    other_browser = new_page()  # English too: the user's pick wins
    log_on(other_browser, "admin@company1", "Company1-admin")
    assert other_browser.locator("html").get_attribute("lang") == "zh-hans"
