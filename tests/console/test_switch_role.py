"""Switch Role and Switch Back: refusals, the authorization swap, expiry, revocation, history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from console.models import RecentRole
from console.switching import SESSION_KEY
from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import seed_demo_world, trust_accounts
from iam.models import Account, AuditEvent, Policy, Role, User
from sts.models import RoleSession
from sts.sessions import check_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    seed_demo_world()


def logged_on(client, logon_key_name: str, alias: str):  # type: ignore[no-untyped-def]
    user = User.objects.get(account__alias=alias, name=logon_key_name)
    client.force_login(user)
    return user


def switch(client, account: str = "company1", role: str = "ecs-admin", **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/switch-role/", {"account": account, "role_name": role, **extra})


def test_alice_switches_to_ecs_admin_and_sees_company1(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    response = switch(client, display_name="Prod ECS", color="#aa3300")
    roles_page = client.get("/roles/")
    assert response.status_code == 302
    assert roles_page.status_code == 200
    assert b"ecs-admin" in roles_page.content and b"devops" in roles_page.content
    assert b"signed in as alice@company2" in roles_page.content


def test_alices_own_account_is_out_of_reach_while_switched(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    users = client.get("/users/alice/")
    assert users.status_code == 404


def test_the_roles_permissions_apply_not_the_users(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    response = client.get("/roles/_new/")
    assert response.status_code == 403
    assert b"ram:CreateRole" in response.content


def test_the_session_key_rotates_on_switch_and_switch_back(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    before = client.session.session_key
    switch(client)
    switched = client.session.session_key
    client.post("/switch-back/")
    assert len({before, switched, client.session.session_key}) == 3


def test_switch_back_restores_the_logon_identity(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    assert SESSION_KEY not in client.session
    assert AuditEvent.objects.filter(action="console:SwitchBack").exists()


def test_root_identities_cannot_switch(client, demo) -> None:  # type: ignore[no-untyped-def]
    client.force_login(User.objects.get(account__alias="company2", kind=User.Kind.ROOT))
    response = switch(client)
    assert b"Root identities cannot switch roles" in response.content


def test_a_user_without_assume_role_is_told_so(client, demo) -> None:  # type: ignore[no-untyped-def]
    services.create_user(SYSTEM_ACTOR, Account.objects.get(alias="company2"), "carol")
    logged_on(client, "carol", "company2")
    response = switch(client)
    assert b"Your own policies do not allow sts:AssumeRole" in response.content


def test_missing_and_untrusting_roles_get_the_same_words(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    missing = switch(client, role="no-such-role").content.decode()
    untrusting = switch(client, role="devops").content.decode()
    assert "does not exist or does not trust you" in missing
    assert "does not exist or does not trust you" in untrusting


def test_the_role_session_expires_back_to_the_logon_identity(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=3601), tick=False):
        response = client.get("/", follow=True)
    assert SESSION_KEY not in client.session
    assert b"ended" in response.content
    assert AuditEvent.objects.filter(action="console:SwitchRoleExpired").exists()


def test_the_session_is_one_hour_by_default(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    session = RoleSession.objects.get(channel="console")
    assert session.expires - session.issued == timedelta(hours=1)


def remove_company2_from_trust() -> None:
    company1 = Account.objects.get(alias="company1")
    services.update_role(
        SYSTEM_ACTOR, Role.objects.get(name="ecs-admin"), trust_policy=trust_accounts(company1.pk)
    )


def revoke_all() -> None:
    services.revoke_role_sessions(SYSTEM_ACTOR, Role.objects.get(name="ecs-admin"))


def detach_assume_role() -> None:
    services.detach_policy(
        SYSTEM_ACTOR,
        User.objects.get(name="alice"),
        Policy.objects.get(name="AliyunSTSAssumeRoleAccess"),
    )


def disable_alice() -> None:
    services.update_user(SYSTEM_ACTOR, User.objects.get(name="alice"), is_active=False)


def delete_role() -> None:
    role = Role.objects.get(name="ecs-admin")
    for attachment in role.attachments.all():
        services.detach_policy(SYSTEM_ACTOR, role, attachment.policy)
    services.delete_role(SYSTEM_ACTOR, Role.objects.get(name="ecs-admin"))


def revoke_one() -> None:
    RoleSession.objects.filter(channel="console").update(
        revoked_at=timezone.now(), revoked_reason="revoked by an admin"
    )


@pytest.mark.parametrize(
    ("revoke", "words"),
    [
        (remove_company2_from_trust, "no longer trusts"),
        (revoke_all, "revoked the active sessions"),
        (detach_assume_role, "no longer holds sts:AssumeRole"),
        (delete_role, "was deleted"),
        (revoke_one, "revoked by an admin"),
    ],
)
def test_revocation_returns_alice_on_her_next_request(client, demo, revoke, words: str) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    revoke()
    response = client.get("/", follow=True)
    assert SESSION_KEY not in client.session
    assert words in response.content.decode()
    assert AuditEvent.objects.filter(action="console:ForcedSwitchBack").exists()


def test_a_disabled_user_is_logged_off(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    disable_alice()
    response = client.get("/")
    assert response.status_code == 302 and "/logon/" in response["Location"]


def test_audit_events_carry_both_identities(client, demo) -> None:  # type: ignore[no-untyped-def]
    alice = logged_on(client, "alice", "company2")
    switch(client)
    event = AuditEvent.objects.get(action="console:SwitchRole")
    assert event.logon_identity == alice.arn
    assert ":assumed-role/ecs-admin/alice" in event.effective_identity


def test_history_is_kept_most_recent_first_and_can_be_searched(client, demo) -> None:  # type: ignore[no-untyped-def]
    company1 = Account.objects.get(alias="company1")
    services.update_role(
        SYSTEM_ACTOR,
        Role.objects.get(name="auditor"),
        trust_policy=json.dumps(
            json.loads(trust_accounts(company1.pk, Account.objects.get(alias="company2").pk))
        ),
    )
    logged_on(client, "alice", "company2")
    switch(client, display_name="ECS")
    client.post("/switch-back/")
    switch(client, role="auditor")
    client.post("/switch-back/")
    names = list(RecentRole.objects.values_list("role_name", flat=True))
    page = client.get("/switch-role/?q=ECS").content.decode()
    assert names == ["auditor", "ecs-admin"]
    assert "ECS" in page and "auditor @" not in page


def test_history_entries_switch_again_rename_and_remove(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    entry = RecentRole.objects.get()
    client.post(f"/switch-role/recent/{entry.pk}/switch/")
    assert client.session[SESSION_KEY]["role_name"] == "ecs-admin"
    client.post(
        f"/switch-role/recent/{entry.pk}/rename/", {"display_name": "Ops", "color": "#123456"}
    )
    assert RecentRole.objects.get().display_name == "Ops"
    client.post(f"/switch-role/recent/{entry.pk}/remove/")
    assert not RecentRole.objects.exists()


def test_another_users_history_is_not_reachable(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    entry = RecentRole.objects.get()
    client.force_login(User.objects.get(name="admin"))
    assert client.post(f"/switch-role/recent/{entry.pk}/remove/").status_code == 404


def test_admin_revokes_one_session_from_role_details(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    session = RoleSession.objects.get()
    client.force_login(User.objects.get(name="admin"))
    client.post(f"/roles/ecs-admin/sessions/{session.pk}/revoke/", {"confirmed": "yes"})
    assert RoleSession.objects.get().revoked_at is not None


def test_revoking_all_sessions_without_javascript_asks_on_a_page_first(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.force_login(User.objects.get(name="admin"))
    response = client.post("/roles/ecs-admin/revoke-sessions/")
    assert b"Revoke every active session of role ecs-admin?" in response.content
    assert RoleSession.objects.get().revoked_at is None
    client.post("/roles/ecs-admin/revoke-sessions/", {"confirmed": "yes"})
    assert Role.objects.get(name="ecs-admin").sessions_revoked_before is not None


def test_an_auditor_cannot_revoke_sessions(client, demo) -> None:  # type: ignore[no-untyped-def]
    client.force_login(User.objects.get(name="auditor"))
    response = client.post("/roles/ecs-admin/revoke-sessions/")
    assert response.status_code == 403
    assert b"ram:RevokeRoleSessions" in response.content


def test_the_role_session_never_outlives_the_logon_session(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    session = client.session
    session.set_expiry(1200)
    session.save()
    switch(client)
    issued = RoleSession.objects.get(channel="console")
    assert issued.expires - issued.issued <= timedelta(seconds=1200)


def test_role_details_show_when_the_role_was_last_used(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    client.force_login(User.objects.get(name="auditor"))
    content = client.get("/roles/ecs-admin/").content.decode()
    assert "Last used" in content and "Never" not in content.split("Last used")[1][:80]


# --- leaving a role session ends it -------------------------------------------------------------


def console_session() -> RoleSession:
    return RoleSession.objects.get(channel="console")


def test_switch_back_ends_the_console_session(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    session = console_session()
    assert session.ended is not None
    assert session.end_reason == "switched back"
    assert session.revoked_at is None


def test_log_off_ends_the_console_session(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/logoff/")
    session = console_session()
    assert session.ended is not None
    assert session.end_reason == "logged off"


@pytest.mark.parametrize(
    ("revoke", "words"),
    [(remove_company2_from_trust, "no longer trusts"), (revoke_one, "revoked by an admin")],
)
def test_a_forced_return_ends_the_console_session(client, demo, revoke, words: str) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    revoke()
    client.get("/")
    session = console_session()
    assert session.ended is not None
    assert session.end_reason.startswith("returned to the logon identity")
    assert words in session.end_reason


def test_switching_to_another_role_ends_the_first_session(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    first = console_session()
    entry = RecentRole.objects.get()
    client.post(f"/switch-role/recent/{entry.pk}/switch/")
    first.refresh_from_db()
    assert first.ended is not None
    assert RoleSession.objects.filter(channel="console", ended__isnull=True).count() == 1


def test_an_ended_session_no_longer_checks_as_active(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    checked = check_session(console_session().session_id)
    assert not checked.active
    assert "ended" in checked.revoked_reason
    assert console_session().revoked_at is None


def sessions_list(client) -> str:  # type: ignore[no-untyped-def]
    client.force_login(User.objects.get(name="admin"))
    return client.get("/roles/ecs-admin/sessions/").content.decode()


@time_machine.travel("2026-12-01 09:30:00Z", tick=False)
def test_the_sessions_list_shows_an_ended_session_with_its_end_time(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    with time_machine.travel("2026-12-01 09:42:17Z", tick=False):
        client.post("/switch-back/")
    content = sessions_list(client)
    assert ">Ended</span> 2026-12-01 09:42:17" in content
    assert "Switched back" in content
    assert "0 active" in content
    assert "/revoke/" not in content


def test_the_sessions_list_counts_an_active_session(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    content = sessions_list(client)
    assert "1 active" in content
    assert ">Active<" in content


def test_revoking_all_sessions_leaves_an_ended_one_ended(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    revoke_all()
    content = sessions_list(client)
    assert ">Ended</span>" in content
    assert ">Revoked</span>" not in content


def test_an_ended_session_cannot_be_revoked(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    client.post("/switch-back/")
    client.force_login(User.objects.get(name="admin"))
    client.post(f"/roles/ecs-admin/sessions/{console_session().pk}/revoke/")
    assert console_session().revoked_at is None
    assert not AuditEvent.objects.filter(action="ram:RevokeRoleSession").exists()


def test_the_list_shows_a_session_whose_trust_was_withdrawn_as_revoked(client, demo) -> None:  # type: ignore[no-untyped-def]
    logged_on(client, "alice", "company2")
    switch(client)
    remove_company2_from_trust()
    content = sessions_list(client)
    assert "0 active" in content
    assert ">Revoked</span>" in content
    assert "no longer trusts" in content
