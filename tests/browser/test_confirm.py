"""Destructive actions ask first: revoking a role's sessions or removing a group's member is
confirmed, and cancelling it changes nothing."""

from __future__ import annotations

import pytest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world
from iam.models import Account, User
from tests.browser.conftest import log_on

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sessions_page(new_page):  # type: ignore[no-untyped-def]
    """The ecs-admin role's sessions, one of them alice's active one, seen by company1's admin."""
    seed_demo_world()
    alice = new_page()
    log_on(alice, "alice@company2", "Company2-alice")
    alice.goto("/switch-role/")
    alice.get_by_label("Account").fill("company1")
    alice.get_by_label("Role name").fill("ecs-admin")
    alice.get_by_role("button", name="Switch Role").click()
    alice.get_by_test_id("role-banner").wait_for()
    admin = new_page()
    log_on(admin, "admin@company1", "Company1-admin")
    admin.goto("/roles/ecs-admin/sessions/")
    return admin


def test_revoking_all_sessions_asks_and_cancelling_changes_nothing(sessions_page) -> None:  # type: ignore[no-untyped-def]
    questions = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss()

    sessions_page.once("dialog", dismiss)
    sessions_page.get_by_role("button", name="Revoke active sessions").click()
    sessions_page.reload()
    assert "Revoke every active session of role ecs-admin?" in questions[0]
    assert sessions_page.get_by_test_id("active-session-count").inner_text() == "1 active"


def test_revoking_all_sessions_once_confirmed_revokes_them(sessions_page) -> None:  # type: ignore[no-untyped-def]
    sessions_page.once("dialog", lambda dialog: dialog.accept())
    sessions_page.get_by_role("button", name="Revoke active sessions").click()
    sessions_page.get_by_text("Every active session of role ecs-admin was revoked.").wait_for()
    assert sessions_page.get_by_test_id("active-session-count").inner_text() == "0 active"


def test_revoking_one_session_asks_and_cancelling_changes_nothing(sessions_page) -> None:  # type: ignore[no-untyped-def]
    sessions_page.once("dialog", lambda dialog: dialog.dismiss())
    sessions_page.get_by_role("button", name="Revoke", exact=True).click()
    sessions_page.reload()
    assert sessions_page.get_by_test_id("active-session-count").inner_text() == "1 active"


def test_removing_a_member_from_a_group_asks_and_cancelling_keeps_them(new_page) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    company1 = Account.objects.get(alias="company1")
    group = services.create_group(SYSTEM_ACTOR, company1, "operators")
    services.add_user_to_group(
        SYSTEM_ACTOR, group, User.objects.get(account=company1, name="auditor")
    )
    page = new_page()
    log_on(page, "admin@company1", "Company1-admin")
    page.goto("/groups/operators/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("row", name="auditor").get_by_role("button", name="Remove").click()
    page.reload()
    assert page.get_by_role("row", name="auditor").count() == 1
