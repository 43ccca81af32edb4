"""Users pages: list, create, details, enable/disable, console password, groups, policies, delete."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Group, Policy, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def fresh_policy_cache() -> None:
    """Compiled policy sets are keyed by user pk and revision, which repeat across tests."""
    from iam.authz import policy_sets

    policy_sets.clear()


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


# --- list ---------------------------------------------------------------------------------------


def test_list_redirects_anonymous_to_logon(client) -> None:
    response = client.get(url("user_list"))
    assert response.status_code == 302
    assert reverse("console:logon") in response.url


def test_list_is_403_naming_the_action_without_policies(client, user_a) -> None:
    client.force_login(user_a)
    response = client.get(url("user_list"))
    assert response.status_code == 403
    assert b"ram:ListUsers" in response.content


def test_list_shows_the_accounts_users_only(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    response = client.get(url("user_list"))
    assert response.status_code == 200
    assert b"admin@company-a" in response.content
    assert b"alice" not in response.content


def test_list_searches_by_name(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.get(url("user_list"), {"q": "bo"}, HTTP_HX_TARGET="user-table", **HTMX)
    assert b"bob@company-a" in response.content
    assert b"admin@company-a" not in response.content
    assert b"<html" not in response.content


def test_auditor_sees_the_list_with_create_disabled(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = client.get(url("user_list"))
    assert response.status_code == 200
    assert b'aria-disabled="true"' in response.content
    assert b"ram:CreateUser" in response.content


def make_users(admin, start: int, stop: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(start, stop):
        user = services.create_user(SYSTEM_ACTOR, admin.account, f"user{index}")
        services.create_access_key(SYSTEM_ACTOR, user)


def test_list_costs_the_same_queries_for_5_and_50(
    client, admin_a, django_assert_num_queries
) -> None:
    make_users(admin_a, 0, 5)
    client.force_login(admin_a)
    client.get(url("user_list"))  # warm the session and policy caches
    with CaptureQueriesContext(connection) as five:
        client.get(url("user_list"))
    queries_for_five = len(five)
    make_users(admin_a, 5, 50)
    client.get(url("user_list"))  # a change may have bumped the account's authz revision
    with django_assert_num_queries(queries_for_five):
        response = client.get(url("user_list"))
    assert len(response.context["page"]) >= 50


# --- create -------------------------------------------------------------------------------------


def test_create_makes_a_user_with_a_console_password(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("user_create"),
        {"user_name": "carol", "display_name": "Carol", "password": "Carol-pass-1"},
    )
    assert response.status_code == 302
    assert response.url == url("user_detail", "carol")
    assert User.objects.get(name="carol").check_password("Carol-pass-1")


def test_create_shows_field_errors(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_create"), {"user_name": "bad name!", "password": "short"})
    assert response.status_code == 200
    assert b"Use only letters, digits" in response.content
    assert b"The password must be 8-128 characters" in response.content
    assert not User.objects.filter(name="bad name!").exists()


def test_create_reports_a_duplicate_name_on_the_field(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_create"), {"user_name": "BOB"})
    assert response.status_code == 200
    assert b"A user with this name already exists." in response.content


def test_create_is_forbidden_to_the_auditor(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("user_create"), {"user_name": "carol"})
    assert response.status_code == 403
    assert b"ram:CreateUser" in response.content
    assert not User.objects.filter(name="carol").exists()


@pytest.mark.parametrize("value", ["x" * 500, "\x00", ""])
def test_create_never_fails_on_odd_input(client, admin_a, value) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("user_create"), {"user_name": value, "display_name": value, "comments": value}
    )
    assert response.status_code == 200


# --- details ------------------------------------------------------------------------------------


def test_details_show_logon_name_user_id_and_arn(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.get(url("user_detail", "bob"))
    assert response.status_code == 200
    assert b"bob@company-a" in response.content
    assert user_a.user_id.encode() in response.content
    assert f'data-copy="{user_a.arn}"'.encode() in response.content


def test_details_of_another_accounts_user_are_404(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    assert client.get(url("user_detail", "alice")).status_code == 404


def test_details_are_403_without_get_user(client, user_a, admin_a) -> None:
    client.force_login(user_a)
    response = client.get(url("user_detail", "admin"))
    assert response.status_code == 403
    assert b"ram:GetUser" in response.content


def test_auditor_sees_details_with_every_write_button_disabled(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    response = client.get(url("user_detail", "bob"))
    content = response.content.decode()
    assert response.status_code == 200
    for action in (
        "ram:DeleteUser",
        "ram:UpdateUser",
        "ram:CreateAccessKey",
        "ram:AttachPolicyToUser",
    ):
        assert action in content
    assert "Delete user</a>" not in content


def test_details_link_to_the_authorize_dialog(client, admin_a, user_a) -> None:
    """Needs the ``console:authorize`` URL of the roles area."""
    client.force_login(admin_a)
    response = client.get(url("user_detail", "bob"))
    authorize = reverse("console:authorize", kwargs={"kind": "user", "name": "bob"})
    assert f'hx-get="{authorize}"'.encode() in response.content
    assert b'hx-trigger="policiesChanged from:body"' in response.content


# --- enable / disable, delete -------------------------------------------------------------------


def test_admin_disables_a_user(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_status", "bob"), {"active": "false"})
    assert response.status_code == 302
    user_a.refresh_from_db()
    assert not user_a.is_active


def test_disable_is_403_for_the_auditor(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("user_status", "bob"), {"active": "false"})
    assert response.status_code == 403
    assert b"ram:UpdateUser" in response.content


def test_delete_explains_the_conflict(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_delete", "bob"), **HTMX)
    assert response.status_code == 200
    assert b"console password first." in response.content
    assert User.objects.filter(name="bob").exists()


def test_delete_removes_a_bare_user(client, admin_a, account_a) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "temp")
    client.force_login(admin_a)
    response = client.post(url("user_delete", "temp"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("user_list")
    assert not User.objects.filter(name="temp").exists()


def test_delete_is_403_for_the_auditor(client, auditor_a, account_a) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "temp")
    client.force_login(auditor_a)
    response = client.post(url("user_delete", "temp"))
    assert response.status_code == 403
    assert b"ram:DeleteUser" in response.content


def test_delete_of_another_accounts_user_is_404(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    assert client.post(url("user_delete", "alice")).status_code == 404


# --- console password ---------------------------------------------------------------------------


def test_admin_sets_a_first_console_password(client, admin_a, account_a) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "carol")
    client.force_login(admin_a)
    response = client.post(url("user_password", "carol"), {"password": "Carol-pass-1"}, **HTMX)
    assert response["HX-Redirect"] == url("user_detail", "carol")
    assert User.objects.get(name="carol").check_password("Carol-pass-1")


def test_admin_resets_a_console_password(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    client.post(url("user_password", "bob"), {"password": "New-pass-123"})
    user_a.refresh_from_db()
    assert user_a.check_password("New-pass-123")


def test_weak_password_is_a_field_error(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_password", "bob"), {"password": "abcdefgh"}, **HTMX)
    assert response.status_code == 200
    assert b"The password must be 8-128 characters" in response.content


def test_reset_password_is_403_naming_update_login_profile(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("user_password", "bob"), {"password": "New-pass-123"})
    assert response.status_code == 403
    assert b"ram:UpdateLoginProfile" in response.content


def test_admin_removes_a_console_password(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    client.post(url("user_password_delete", "bob"))
    user_a.refresh_from_db()
    assert not user_a.has_usable_password()


def test_remove_password_is_403_for_the_auditor(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("user_password_delete", "bob"))
    assert response.status_code == 403
    assert b"ram:DeleteLoginProfile" in response.content


# --- groups -------------------------------------------------------------------------------------


@pytest.fixture
def developers(account_a):  # type: ignore[no-untyped-def]
    return services.create_group(SYSTEM_ACTOR, account_a, "developers")


def test_admin_adds_a_user_to_a_group(client, admin_a, user_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_group_add", "bob"), {"name": "developers"})
    assert response.status_code == 302
    assert developers.members.filter(pk=user_a.pk).exists()


def test_adding_to_an_unknown_group_is_a_field_error(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("user_group_add", "bob"), {"name": "nope"}, **HTMX)
    assert response.status_code == 200
    assert b"field-error" in response.content


def test_add_to_group_is_403_naming_the_group_action(client, auditor_a, user_a, developers) -> None:
    client.force_login(auditor_a)
    response = client.post(url("user_group_add", "bob"), {"name": "developers"})
    assert response.status_code == 403
    assert b"ram:AddUserToGroup" in response.content


def test_admin_removes_a_user_from_a_group(client, admin_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(admin_a)
    client.post(url("user_group_remove", "bob", "developers"), {"confirmed": "yes"})
    assert not developers.members.exists()


def test_remove_from_group_is_403_for_the_auditor(client, auditor_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(auditor_a)
    response = client.post(url("user_group_remove", "bob", "developers"))
    assert response.status_code == 403
    assert b"ram:RemoveUserFromGroup" in response.content
    assert Group.objects.get(name="developers").members.exists()


# --- policies -----------------------------------------------------------------------------------


def test_policies_fragment_refreshes_alone(client, admin_a, auditor_a) -> None:
    client.force_login(admin_a)
    response = client.get(url("user_policies", "auditor"), **HTMX)
    assert b"AliyunRAMReadOnlyAccess" in response.content
    assert b"<html" not in response.content


def test_logon_with_the_new_password_works(client, admin_a, account_a) -> None:
    """The password set in the console is the one the logon page accepts."""
    services.create_user(SYSTEM_ACTOR, account_a, "dave")
    client.force_login(admin_a)
    client.post(url("user_password", "dave"), {"password": PASSWORD})
    client.logout()
    response = client.post(url("logon"), {"logon_name": "dave@company-a", "password": PASSWORD})
    assert response.status_code == 302
    assert Policy.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["user_create", "user_password", "user_password_delete", "user_group_add", "user_delete"],
)
def test_dialogs_work_as_pages_without_javascript(client, admin_a, user_a, name) -> None:
    client.force_login(admin_a)
    response = client.get(url(name) if name == "user_create" else url(name, "bob"))
    assert response.status_code == 200
    assert b"<html" in response.content


# --- forms sent twice (double click, resent form): done once ------------------------------------


def form_token(content: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', content)
    assert match, "the form carries no one-time token"
    return match.group(1)


def test_the_create_form_carries_a_one_time_token(client, admin_a) -> None:
    client.force_login(admin_a)
    first = form_token(client.get(url("user_create")).content.decode())
    assert first != form_token(client.get(url("user_create")).content.decode())


def test_a_create_sent_twice_makes_one_user_and_shows_it(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"user_name": "carol", "password": "Carol-pass-1", "form_token": "t" * 24}
    client.post(url("user_create"), data)
    repeat = client.post(url("user_create"), data)
    carol = AuditEvent.objects.filter(resource_arn__endswith=":user/carol")
    assert repeat.url == url("user_detail", "carol")
    assert carol.filter(action="ram:CreateUser").count() == 1
    assert carol.filter(action="ram:CreateLoginProfile").count() == 1


def test_the_repeat_says_the_form_was_sent_more_than_once(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"user_name": "carol", "form_token": "t" * 24}
    client.post(url("user_create"), data)
    response = client.post(url("user_create"), data, follow=True)
    assert b"sent more than once; it was carried out once" in response.content


def test_a_password_sent_twice_is_set_once(client, admin_a, account_a) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "carol")
    client.force_login(admin_a)
    data = {"password": "Carol-pass-1", "form_token": "t" * 24}
    client.post(url("user_password", "carol"), data, **HTMX)
    repeat = client.post(url("user_password", "carol"), data, **HTMX)
    carol = AuditEvent.objects.filter(resource_arn__endswith=":user/carol")
    assert repeat["HX-Redirect"] == url("user_detail", "carol")
    assert carol.filter(action="ram:CreateLoginProfile").count() == 1


def test_adding_to_a_group_twice_adds_once_without_an_error(client, admin_a, user_a) -> None:
    services.create_group(SYSTEM_ACTOR, user_a.account, "developers")
    client.force_login(admin_a)
    data = {"name": "developers", "form_token": "t" * 24}
    client.post(url("user_group_add", "bob"), data, **HTMX)
    repeat = client.post(url("user_group_add", "bob"), data, **HTMX)
    assert repeat["HX-Redirect"] == url("user_detail", "bob")
    assert AuditEvent.objects.filter(action="ram:AddUserToGroup").count() == 1


def test_a_delete_sent_twice_answers_like_the_first(client, admin_a, account_a) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "temp")
    client.force_login(admin_a)
    client.post(url("user_delete", "temp"), {"form_token": "t" * 24})
    repeat = client.post(url("user_delete", "temp"), {"form_token": "t" * 24})
    assert (repeat.status_code, repeat.url) == (302, url("user_list"))


@pytest.mark.parametrize(
    "name", ["user_password", "user_password_delete", "user_group_add", "user_delete"]
)
def test_dialogs_carry_a_token_and_disable_their_button_under_htmx(
    client, admin_a, user_a, name
) -> None:  # type: ignore[no-untyped-def]
    services.create_group(SYSTEM_ACTOR, user_a.account, "developers")
    client.force_login(admin_a)
    content = client.get(url(name, "bob"), **HTMX).content.decode()
    assert form_token(content)
    assert "hx-disabled-elt=\"find button[type='submit']\"" in content
