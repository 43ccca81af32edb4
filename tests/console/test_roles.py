"""Role Management: the list, role details, edits and delete, with their permission matrix.

Remove (detach) is one view for roles, users and groups: tests/console/test_detach_policy.py.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts, trust_service
from iam.models import Policy, Role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_role(account, name="ops", trust=None, policies=()):  # type: ignore[no-untyped-def]
    role = services.create_role(
        SYSTEM_ACTOR, account, name, trust_policy=trust or trust_accounts(account.pk)
    )
    for policy_name in policies:
        policy = Policy.objects.get(account__isnull=True, name=policy_name)
        services.attach_policy(SYSTEM_ACTOR, role, policy)
    return role


@pytest.fixture
def role_a(account_a):  # type: ignore[no-untyped-def]
    return make_role(account_a, "ops")


@pytest.fixture
def role_b(account_b):  # type: ignore[no-untyped-def]
    return make_role(account_b, "theirs")


# --- the list -----------------------------------------------------------------------------------


def test_list_sends_anonymous_people_to_logon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("console:role_list"))
    assert response.status_code == 302
    assert "/logon/" in response["Location"]


def test_list_denies_a_user_without_policies_naming_action_and_resource(
    client, user_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(reverse("console:role_list"))
    assert response.status_code == 403
    assert b"ram:ListRoles" in response.content
    assert f"acs:ram::{account_a.pk}:role/*".encode() in response.content


def test_list_shows_the_accounts_roles_in_words(
    client, admin_a, account_a, account_b, role_b
) -> None:  # type: ignore[no-untyped-def]
    make_role(account_a, "cross", trust=trust_accounts(account_b.pk, "9999999999999999"))
    client.force_login(admin_a)
    response = client.get(reverse("console:role_list"))
    text = response.content.decode()
    assert "Role Management" in text
    assert f"Account company-b ({account_b.pk})" in text
    assert "Account 9999999999999999 (not hosted here)" in text
    assert "theirs" not in text


def test_list_names_service_roles_and_current_account(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_service(SYSTEM_ACTOR, "oss.example.internal")
    make_role(account_a, "writer", trust=trust_service("oss.example.internal"))
    make_role(account_a, "mine")
    client.force_login(admin_a)
    text = client.get(reverse("console:role_list")).content.decode()
    assert "Service role" in text and "Service oss.example.internal" in text
    assert "Current account" in text


def test_list_search_returns_the_table_fragment_to_htmx(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    make_role(account_a, "alpha")
    make_role(account_a, "beta")
    client.force_login(admin_a)
    response = client.get(
        reverse("console:role_list"), {"q": "alp"}, HTTP_HX_TARGET="role-table", **HTMX
    )
    text = response.content.decode()
    assert "<html" not in text
    assert "alpha" in text and "beta" not in text


def test_list_survives_bad_paging_and_huge_search(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    for params in ({"page": "abc"}, {"page": "99999999999999999999"}, {"q": "x" * 10000}):
        assert client.get(reverse("console:role_list"), params).status_code == 200


def test_list_pages_by_fifty(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    bulk_roles(account_a, 60)
    client.force_login(admin_a)
    first = client.get(reverse("console:role_list")).content.decode()
    second = client.get(reverse("console:role_list"), {"page": 2}).content.decode()
    assert first.count('data-role="') == 50
    assert second.count('data-role="') == 10


def test_auditor_sees_the_list_with_disabled_buttons(client, auditor_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    text = client.get(reverse("console:role_list")).content.decode()
    assert 'aria-disabled="true"' in text
    assert "ram:CreateRole" in text
    assert reverse("console:role_create") not in text


def bulk_roles(account, count):  # type: ignore[no-untyped-def]
    trust = trust_accounts(account.pk)
    Role.objects.bulk_create(
        Role(account=account, name=f"role-{index:04}", trust_policy=trust) for index in range(count)
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_list_query_count_does_not_grow_with_the_roles(
    client, admin_a, account_a, account_b, django_assert_num_queries, count
) -> None:  # type: ignore[no-untyped-def]
    trust = trust_accounts(account_a.pk, account_b.pk)
    Role.objects.bulk_create(
        Role(account=account_a, name=f"role-{index:04}", trust_policy=trust)
        for index in range(count)
    )
    client.force_login(admin_a)
    client.get(reverse("console:role_list"))  # warm the compiled policy cache
    with django_assert_num_queries(ROLE_LIST_QUERIES):
        response = client.get(reverse("console:role_list"))
    assert response.status_code == 200


# session, user, authz revision (read once per request), roles, their tags, aliases
ROLE_LIST_QUERIES = 6


# --- details ------------------------------------------------------------------------------------


def test_details_404_for_another_accounts_role(client, admin_a, role_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(reverse("console:role_detail", args=["theirs"])).status_code == 404


def test_details_denied_to_a_user_without_policies(client, user_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(reverse("console:role_detail", args=["ops"]))
    assert response.status_code == 403
    assert b"ram:GetRole" in response.content


def test_details_anonymous_goes_to_logon(client, role_a) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("console:role_detail", args=["ops"]))
    assert response.status_code == 302


def test_details_show_arn_trust_in_words_and_no_permissions(
    client, admin_a, account_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    make_role(account_a, "cross", trust=trust_accounts(account_b.pk))
    client.force_login(admin_a)
    text = client.get(reverse("console:role_detail", args=["cross"])).content.decode()
    trust = client.get(reverse("console:role_trust", args=["cross"])).content.decode()
    permissions = client.get(reverse("console:role_permissions", args=["cross"])).content
    assert f'data-copy="acs:ram::{account_a.pk}:role/cross"' in text
    assert "Users of account company-b who hold sts:AssumeRole" in trust
    assert b"it cannot be used until it is authorized" in permissions


def test_auditor_views_details_but_cannot_change_them(client, auditor_a, account_a) -> None:  # type: ignore[no-untyped-def]
    make_role(account_a, "ops", policies=["ReadOnlyAccess"])
    client.force_login(auditor_a)
    text = client.get(reverse("console:role_detail", args=["ops"])).content.decode()
    permissions = client.get(reverse("console:role_permissions", args=["ops"])).content.decode()
    assert "ram:UpdateRole" in text
    assert "ram:AttachPolicyToRole" in permissions
    assert "ram:DetachPolicyFromRole" in permissions


def test_permissions_section_refreshes_as_a_fragment(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(
        reverse("console:role_permissions", args=["ops"]), HTTP_HX_TARGET="role-permissions", **HTMX
    )
    assert response.content.decode().lstrip().startswith('<section class="card" id="role-perm')


# --- edits --------------------------------------------------------------------------------------


def test_admin_changes_description_and_max_session_duration(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update", args=["ops"])
    response = client.post(url, {"description": "Ops", "max_session_duration": "7200"})
    role_a.refresh_from_db()
    assert response.status_code == 302
    assert (role_a.description, role_a.max_session_duration) == ("Ops", 7200)


@pytest.mark.parametrize("value", ["100", "abc", "", "9" * 5000])
def test_bad_max_session_duration_is_a_field_error(client, admin_a, role_a, value) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update", args=["ops"])
    response = client.post(url, {"description": "", "max_session_duration": value}, **HTMX)
    assert response.status_code == 200
    assert b'class="field-error"' in response.content


def test_auditor_forging_an_update_gets_403(client, auditor_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    url = reverse("console:role_update", args=["ops"])
    response = client.post(url, {"description": "x", "max_session_duration": "3600"})
    assert response.status_code == 403
    assert b"ram:UpdateRole" in response.content


def test_trust_policy_edit_is_saved(client, admin_a, role_a, account_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update_trust", args=["ops"])
    response = client.post(url, {"trust_policy": trust_accounts(account_b.pk)}, **HTMX)
    role_a.refresh_from_db()
    assert response.status_code == 200
    assert account_b.pk in role_a.trust_policy


def test_bad_trust_policy_json_points_at_the_line(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update_trust", args=["ops"])
    response = client.post(url, {"trust_policy": '{\n  "Version": "1",\n  oops\n}'}, **HTMX)
    assert response.status_code == 200
    assert b"line 3" in response.content


def test_trust_policy_naming_a_missing_user_is_refused(client, admin_a, role_a, account_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    document = json.loads(trust_accounts(account_a.pk))
    document["Statement"][0]["Principal"]["RAM"] = [f"acs:ram::{account_a.pk}:user/ghost"]
    url = reverse("console:role_update_trust", args=["ops"])
    response = client.post(url, {"trust_policy": json.dumps(document)})
    assert response.status_code == 200
    assert b"does not exist" in response.content


def test_check_trust_endpoint_validates_as_you_type(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_check_trust")
    assert b"Invalid JSON" in client.post(url, {"trust_policy": "{"}, **HTMX).content


def test_check_trust_warns_of_a_suspicious_condition_but_calls_the_document_valid(
    client, admin_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(trust_accounts(account_a.pk))
    document["Statement"][0]["Condition"] = {"StringEquals": {"acs:MFAPresent": "true"}}
    client.force_login(admin_a)
    url = reverse("console:role_check_trust")
    text = client.post(url, {"trust_policy": json.dumps(document)}, **HTMX).content.decode()
    assert "Valid trust policy." in text
    assert "Statement[0].Condition.StringEquals.acs:MFAPresent" in text


# --- delete -------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(reverse("console:role_delete", args=["ops"]))
    assert b"Delete role" in response.content
    assert Role.objects.filter(pk=role_a.pk).exists()


def test_delete_removes_the_role(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(reverse("console:role_delete", args=["ops"]))
    assert response.status_code == 302
    assert not Role.objects.filter(pk=role_a.pk).exists()


def test_delete_over_htmx_redirects_the_client(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(reverse("console:role_delete", args=["ops"]), **HTMX)
    assert response["HX-Redirect"] == reverse("console:role_list")


def test_delete_of_a_role_with_policies_explains_why_not(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = make_role(account_a, "ops", policies=["ReadOnlyAccess", "AliyunOSSReadOnlyAccess"])
    client.force_login(admin_a)
    page = client.get(reverse("console:role_delete", args=["ops"]), **HTMX)
    forced = client.post(reverse("console:role_delete", args=["ops"]))
    assert b"Remove its 2 policies first" in page.content
    assert forced.status_code == 200
    assert Role.objects.filter(pk=role.pk).exists()


def test_delete_denied_to_auditor(client, auditor_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(reverse("console:role_delete", args=["ops"]))
    assert response.status_code == 403
    assert b"ram:DeleteRole" in response.content


def test_delete_of_another_accounts_role_is_404(client, admin_a, role_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.post(reverse("console:role_delete", args=["theirs"])).status_code == 404


# --- the permission matrix of every role page and action ----------------------------------------

ROLE_ENDPOINTS = [
    ("get", "console:role_detail", ["ops"], "ram:GetRole"),
    ("post", "console:role_update", ["ops"], "ram:UpdateRole"),
    ("post", "console:role_update_trust", ["ops"], "ram:UpdateRole"),
    ("get", "console:role_delete", ["ops"], "ram:DeleteRole"),
    ("post", "console:role_delete", ["ops"], "ram:DeleteRole"),
    (
        "post",
        "console:detach_policy",
        ["role", "ops", "System", "ReadOnlyAccess"],
        "ram:DetachPolicyFromRole",
    ),
    ("get", "console:authorize", ["role", "ops"], "ram:AttachPolicyToRole"),
    ("post", "console:authorize", ["role", "ops"], "ram:AttachPolicyToRole"),
]
ACCOUNT_ENDPOINTS = [
    ("get", "console:role_list", "ram:ListRoles"),
    ("get", "console:role_create", "ram:CreateRole"),
    ("post", "console:role_create", "ram:CreateRole"),
    ("post", "console:role_check_name", "ram:CreateRole"),
    ("post", "console:role_check_account", "ram:CreateRole"),
    ("post", "console:role_wizard_trust", "ram:CreateRole"),
]


@pytest.fixture
def role_with_policy(account_a):  # type: ignore[no-untyped-def]
    return make_role(account_a, "ops", policies=["ReadOnlyAccess"])


@pytest.mark.parametrize(("method", "name", "args", "action"), ROLE_ENDPOINTS)
def test_role_endpoints_send_anonymous_people_to_logon(
    client, role_with_policy, method, name, args, action
) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302


@pytest.mark.parametrize(("method", "name", "args", "action"), ROLE_ENDPOINTS)
def test_role_endpoints_deny_a_user_without_policies(
    client, user_a, role_with_policy, method, name, args, action
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 403
    assert action.encode() in response.content
    assert role_with_policy.arn.encode() in response.content


@pytest.mark.parametrize(("method", "name", "args", "action"), ROLE_ENDPOINTS)
def test_role_endpoints_hide_another_accounts_role(
    client, user_b, role_with_policy, method, name, args, action
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_b)
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "name", "args", "action"), ROLE_ENDPOINTS)
def test_role_endpoints_deny_the_auditor_every_change(
    client, auditor_a, role_with_policy, method, name, args, action
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = getattr(client, method)(reverse(name, args=args))
    expected = 200 if action == "ram:GetRole" else 403
    assert response.status_code == expected


@pytest.mark.parametrize(("method", "name", "action"), ACCOUNT_ENDPOINTS)
def test_account_endpoints_deny_a_user_without_policies(
    client, user_a, account_a, method, name, action
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 403
    assert action.encode() in response.content
    assert f"acs:ram::{account_a.pk}:role/*".encode() in response.content


@pytest.mark.parametrize(("method", "name", "action"), ACCOUNT_ENDPOINTS)
def test_account_endpoints_send_anonymous_people_to_logon(client, method, name, action) -> None:  # type: ignore[no-untyped-def]
    assert getattr(client, method)(reverse(name)).status_code == 302


def test_nul_characters_in_input_are_not_a_500(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update", args=["ops"])
    response = client.post(url, {"description": "a\x00b", "max_session_duration": "3600"})
    role_a.refresh_from_db()
    assert response.status_code == 302
    assert role_a.description == "ab"


def test_a_stored_lone_surrogate_escape_is_shown_as_written(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    """No trust policy is accepted with one any more, but a row may predate that."""
    document = json.loads(role_a.trust_policy)
    document["Statement"][0]["Condition"] = {"StringEquals": {"sts:ExternalId": "x"}}
    text = json.dumps(document).replace('"x"', '"\\ud800"')
    Role.objects.filter(pk=role_a.pk).update(trust_policy=text)
    client.force_login(admin_a)
    response = client.get(reverse("console:role_trust", args=["ops"]))
    assert response.status_code == 200
    assert b"ExternalId&quot;: &quot;\\ud800&quot;" in response.content


def test_a_description_too_long_is_said_plainly(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    url = reverse("console:role_update", args=["ops"])
    response = client.post(url, {"description": "d" * 1025, "max_session_duration": "3600"})
    assert b"A description has at most 1024 characters." in response.content


def test_a_role_named_new_still_has_a_details_page(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "new", trust_policy=trust_accounts(account_a.pk))
    client.force_login(admin_a)
    response = client.get("/roles/new/")
    assert response.status_code == 200
    assert b"Basic information" in response.content
