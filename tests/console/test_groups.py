"""Groups pages: list, create, details (members, attached policies), delete."""

from __future__ import annotations

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Group, Policy, User

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def developers(account_a):  # type: ignore[no-untyped-def]
    return services.create_group(SYSTEM_ACTOR, account_a, "developers", comments="Devs")


@pytest.fixture
def group_b(account_b):  # type: ignore[no-untyped-def]
    return services.create_group(SYSTEM_ACTOR, account_b, "ops")


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


def test_list_redirects_anonymous_to_logon(client) -> None:
    response = client.get(url("group_list"))
    assert response.status_code == 302
    assert reverse("console:logon") in response.url


def test_list_is_403_naming_the_action(client, user_a) -> None:
    client.force_login(user_a)
    response = client.get(url("group_list"))
    assert response.status_code == 403
    assert b"ram:ListGroups" in response.content


def test_list_shows_this_accounts_groups_with_counts(client, admin_a, developers, group_b) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, admin_a)
    client.force_login(admin_a)
    response = client.get(url("group_list"))
    assert b"developers" in response.content
    assert b">ops<" not in response.content
    assert response.context["page"][0].member_count == 1


def test_auditor_sees_the_list_with_create_disabled(client, auditor_a, developers) -> None:
    client.force_login(auditor_a)
    response = client.get(url("group_list"))
    assert response.status_code == 200
    assert b"ram:CreateGroup" in response.content


def make_groups(admin, start: int, stop: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(start, stop):
        group = services.create_group(SYSTEM_ACTOR, admin.account, f"group{index}")
        services.add_user_to_group(SYSTEM_ACTOR, group, admin)


def test_list_costs_the_same_queries_for_5_and_50(
    client, admin_a, django_assert_num_queries
) -> None:
    make_groups(admin_a, 0, 5)
    client.force_login(admin_a)
    client.get(url("group_list"))  # warm the session and policy caches
    with CaptureQueriesContext(connection) as five:
        client.get(url("group_list"))
    queries_for_five = len(five)
    make_groups(admin_a, 5, 50)
    client.get(url("group_list"))  # a change may have bumped the account's authz revision
    with django_assert_num_queries(queries_for_five):
        response = client.get(url("group_list"))
    assert len(response.context["page"]) >= 50


def test_create_makes_a_group(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_create"), {"group_name": "qa", "comments": "Testers"})
    assert response.status_code == 302
    assert Group.objects.get(name="qa").comments == "Testers"


def test_create_shows_field_errors(client, admin_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_create"), {"group_name": "Developers"})
    assert response.status_code == 200
    assert b"A group with this name already exists." in response.content


def test_create_rejects_bad_names(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_create"), {"group_name": "a b"})
    assert b"Use only letters, digits" in response.content


def test_create_is_403_for_the_auditor(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("group_create"), {"group_name": "qa"})
    assert response.status_code == 403
    assert not Group.objects.exists()


def test_details_show_members_and_policies(client, admin_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    policy = Policy.objects.get(name="AliyunOSSFullAccess")
    services.attach_policy(SYSTEM_ACTOR, developers, policy)
    client.force_login(admin_a)
    response = client.get(url("group_detail", "developers"))
    assert b"bob@company-a" in response.content
    assert b"AliyunOSSFullAccess" in response.content
    assert b'hx-trigger="policiesChanged from:body"' in response.content


def test_details_link_to_the_authorize_dialog(client, admin_a, developers) -> None:
    """Needs the ``console:authorize`` URL of the roles area."""
    client.force_login(admin_a)
    response = client.get(url("group_detail", "developers"))
    authorize = reverse("console:authorize", kwargs={"kind": "group", "name": "developers"})
    assert f'href="{authorize}"'.encode() in response.content


def test_details_of_another_accounts_group_are_404(client, admin_a, group_b) -> None:
    client.force_login(admin_a)
    assert client.get(url("group_detail", "ops")).status_code == 404


def test_details_are_403_without_get_group(client, user_a, developers) -> None:
    client.force_login(user_a)
    response = client.get(url("group_detail", "developers"))
    assert response.status_code == 403
    assert b"ram:GetGroup" in response.content


def test_auditor_sees_details_with_write_buttons_disabled(client, auditor_a, developers) -> None:
    client.force_login(auditor_a)
    content = client.get(url("group_detail", "developers")).content.decode()
    for action in ("ram:DeleteGroup", "ram:AddUserToGroup", "ram:AttachPolicyToGroup"):
        assert action in content


def test_admin_adds_a_member(client, admin_a, user_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "developers"), {"name": "bob"}, **HTMX)
    assert response["HX-Redirect"] == url("group_detail", "developers")
    assert developers.members.filter(pk=user_a.pk).exists()


def test_adding_an_unknown_user_is_a_field_error(client, admin_a, developers, user_b) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "developers"), {"name": "alice"}, **HTMX)
    assert response.status_code == 200
    assert b"field-error" in response.content
    assert not developers.members.exists()


def test_add_member_is_403_for_the_auditor(client, auditor_a, user_a, developers) -> None:
    client.force_login(auditor_a)
    response = client.post(url("group_member_add", "developers"), {"name": "bob"})
    assert response.status_code == 403
    assert b"ram:AddUserToGroup" in response.content


def test_admin_removes_a_member(client, admin_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(admin_a)
    client.post(url("group_member_remove", "developers", "bob"), {"confirmed": "yes"})
    assert not developers.members.exists()


def test_removing_a_member_without_javascript_asks_on_a_page_first(
    client, admin_a, user_a, developers
) -> None:  # type: ignore[no-untyped-def]
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(admin_a)
    response = client.post(url("group_member_remove", "developers", "bob"))
    assert b"Remove bob from group developers?" in response.content
    assert developers.members.exists()


def test_remove_member_is_403_for_the_auditor(client, auditor_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(auditor_a)
    response = client.post(url("group_member_remove", "developers", "bob"))
    assert response.status_code == 403
    assert developers.members.exists()


def test_removing_a_non_member_is_404(client, admin_a, user_a, developers) -> None:
    client.force_login(admin_a)
    assert client.post(url("group_member_remove", "developers", "bob")).status_code == 404


def test_policies_fragment_alone(client, admin_a, developers) -> None:
    client.force_login(admin_a)
    response = client.get(url("group_policies", "developers"), **HTMX)
    assert b'id="group-policies"' in response.content
    assert b"<html" not in response.content


def test_delete_explains_a_conflict(client, admin_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    client.force_login(admin_a)
    response = client.post(url("group_delete", "developers"), **HTMX)
    assert response.status_code == 200
    assert b"members first." in response.content


def test_delete_removes_an_empty_group(client, admin_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_delete", "developers"))
    assert response.status_code == 302
    assert not Group.objects.exists()


def test_delete_is_403_for_the_auditor(client, auditor_a, developers) -> None:
    client.force_login(auditor_a)
    response = client.post(url("group_delete", "developers"))
    assert response.status_code == 403
    assert b"ram:DeleteGroup" in response.content


def test_delete_of_another_accounts_group_is_404(client, admin_a, group_b) -> None:
    client.force_login(admin_a)
    assert client.post(url("group_delete", "ops")).status_code == 404


# --- forms sent twice (double click, resent form): done once ------------------------------------


def test_the_create_form_carries_a_one_time_token(client, admin_a) -> None:
    client.force_login(admin_a)
    assert b'name="form_token"' in client.get(url("group_create")).content


def test_a_create_sent_twice_makes_one_group_and_shows_it(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"group_name": "qa", "form_token": "t" * 24}
    client.post(url("group_create"), data)
    repeat = client.post(url("group_create"), data)
    assert repeat.url == url("group_detail", "qa")
    assert AuditEvent.objects.filter(action="ram:CreateGroup").count() == 1


def test_a_create_with_errors_leaves_its_token_unused(client, admin_a) -> None:
    client.force_login(admin_a)
    client.post(url("group_create"), {"group_name": "a b", "form_token": "t" * 24})
    response = client.post(url("group_create"), {"group_name": "qa", "form_token": "t" * 24})
    assert response.url == url("group_detail", "qa")
    assert Group.objects.filter(name="qa").exists()


def test_a_member_added_twice_is_added_once(client, admin_a, user_a, developers) -> None:
    client.force_login(admin_a)
    data = {"name": "bob", "form_token": "t" * 24}
    client.post(url("group_member_add", "developers"), data, **HTMX)
    repeat = client.post(url("group_member_add", "developers"), data, **HTMX)
    assert repeat["HX-Redirect"] == url("group_detail", "developers")
    assert AuditEvent.objects.filter(action="ram:AddUserToGroup").count() == 1


# --- add several members at once ----------------------------------------------------------------


def make_users(account, *names: str) -> None:  # type: ignore[no-untyped-def]
    for name in names:
        services.create_user(SYSTEM_ACTOR, account, name)


def test_the_dialog_offers_this_accounts_users_not_yet_members(
    client, admin_a, user_a, developers, user_b
) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, admin_a)
    client.force_login(admin_a)
    content = client.get(url("group_member_add", "developers"), **HTMX).content.decode()
    assert 'type="checkbox" name="name" value="bob"' in content
    assert 'value="admin"' not in content
    assert 'value="alice"' not in content


def test_the_filter_returns_the_list_alone_keeping_ticked_users(
    client, admin_a, developers
) -> None:
    make_users(admin_a.account, "carol", "dave", "erin")
    client.force_login(admin_a)
    response = client.get(
        url("group_member_add", "developers"),
        {"q": "car", "name": "erin"},
        HTTP_HX_TARGET="member-choices",
        **HTMX,
    )
    content = response.content.decode()
    assert "<html" not in content and 'id="member-choices"' in content
    assert 'value="carol"' in content and 'value="dave"' not in content
    assert 'value="erin" checked' in content


def test_the_dialog_works_as_a_page_without_javascript(client, admin_a, developers) -> None:
    client.force_login(admin_a)
    response = client.get(url("group_member_add", "developers"), {"q": "adm"})
    assert b"<html" in response.content
    assert b'value="admin"' in response.content


def test_several_members_are_added_in_one_post_each_audited(client, admin_a, developers) -> None:
    make_users(admin_a.account, "carol", "dave")
    client.force_login(admin_a)
    response = client.post(
        url("group_member_add", "developers"), {"name": ["carol", "dave"]}, **HTMX
    )
    assert response["HX-Redirect"] == url("group_detail", "developers")
    assert sorted(developers.members.values_list("name", flat=True)) == ["carol", "dave"]
    assert AuditEvent.objects.filter(action="ram:AddUserToGroup").count() == 2


def test_choosing_nobody_is_a_field_error(client, admin_a, user_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "developers"), {}, **HTMX)
    assert response.status_code == 200
    assert b'id="id_name-error">Choose at least one user to add.' in response.content


def test_a_vanished_user_adds_nobody(client, admin_a, user_a, developers) -> None:
    make_users(admin_a.account, "carol")
    client.force_login(admin_a)
    services.delete_user(SYSTEM_ACTOR, User.objects.get(name="carol"))
    response = client.post(url("group_member_add", "developers"), {"name": ["bob", "carol"]})
    assert b"No longer in this account: carol. Nothing was added." in response.content
    assert not developers.members.exists()


def test_a_user_already_in_the_group_adds_nobody(client, admin_a, user_a, developers) -> None:
    services.add_user_to_group(SYSTEM_ACTOR, developers, user_a)
    make_users(admin_a.account, "carol")
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "developers"), {"name": ["bob", "carol"]})
    assert b"Already members: bob. Nothing was added." in response.content
    assert list(developers.members.values_list("name", flat=True)) == ["bob"]


def test_a_name_that_is_no_user_name_is_refused(client, admin_a, developers) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "developers"), {"name": "a\x00b"}, **HTMX)
    assert response.status_code == 200
    assert b"field-error" in response.content


def test_adding_to_another_accounts_group_is_404(client, admin_a, user_a, group_b) -> None:
    client.force_login(admin_a)
    response = client.post(url("group_member_add", "ops"), {"name": ["bob"]})
    assert response.status_code == 404
    assert not group_b.members.exists()


def test_the_dialog_costs_the_same_queries_for_5_and_50_users(
    client, admin_a, developers, django_assert_num_queries
) -> None:
    make_users(admin_a.account, *(f"user{index}" for index in range(5)))
    client.force_login(admin_a)
    dialog = url("group_member_add", "developers")
    client.get(dialog, **HTMX)  # warm the session and policy caches
    reset_queries()  # the log holds at most 9,000 queries; counting needs room
    with CaptureQueriesContext(connection) as five:
        client.get(dialog, **HTMX)
    queries_for_five = len(five)
    make_users(admin_a.account, *(f"user{index}" for index in range(5, 50)))
    client.get(dialog, **HTMX)
    with django_assert_num_queries(queries_for_five):
        response = client.get(dialog, **HTMX)
    assert len(response.context["candidates"]) == 51
