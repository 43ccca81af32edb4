"""Policies pages: lists, custom create with live validation, details, versions, delete."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Policy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def document(action: str = "ecs:Describe*") -> str:
    return json.dumps(
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]},
        indent=2,
    )


@pytest.fixture
def custom(account_a):  # type: ignore[no-untyped-def]
    return services.create_policy(
        SYSTEM_ACTOR, account_a, "ecs-read", document=document(), description="Read ECS"
    )


@pytest.fixture
def custom_b(account_b):  # type: ignore[no-untyped-def]
    return services.create_policy(SYSTEM_ACTOR, account_b, "b-only", document=document())


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


# --- list ---------------------------------------------------------------------------------------


def test_list_redirects_anonymous_to_logon(client) -> None:
    response = client.get(url("policy_list"))
    assert response.status_code == 302
    assert reverse("console:logon") in response.url


def test_list_is_403_naming_the_action(client, user_a) -> None:
    client.force_login(user_a)
    response = client.get(url("policy_list"))
    assert response.status_code == 403
    assert b"ram:ListPolicies" in response.content


def test_list_shows_system_and_own_custom_policies(client, admin_a, custom, custom_b) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_list"))
    assert b"AdministratorAccess" in response.content
    assert b"ecs-read" in response.content
    assert b"b-only" not in response.content


def test_custom_tab_shows_custom_policies_only(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_list"), {"type": "Custom"})
    assert b"ecs-read" in response.content
    assert b"AdministratorAccess" not in response.content


def test_search_filters_by_name(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_list"), {"q": "ecs-r"}, HTTP_HX_TARGET="policy-table", **HTMX)
    assert b"ecs-read" in response.content
    assert b"AdministratorAccess" not in response.content


def test_auditor_sees_the_list_with_create_disabled(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = client.get(url("policy_list"))
    assert response.status_code == 200
    assert b"ram:CreatePolicy" in response.content


def make_policys(admin, start: int, stop: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(start, stop):
        services.create_policy(SYSTEM_ACTOR, admin.account, f"policy-{index}", document=document())


def test_list_costs_the_same_queries_for_5_and_50(
    client, admin_a, django_assert_num_queries
) -> None:
    make_policys(admin_a, 0, 5)
    client.force_login(admin_a)
    client.get(url("policy_list"))  # warm the session and policy caches
    with CaptureQueriesContext(connection) as five:
        client.get(url("policy_list"))
    queries_for_five = len(five)
    make_policys(admin_a, 5, 50)
    client.get(url("policy_list"))  # a change may have bumped the account's authz revision
    with django_assert_num_queries(queries_for_five):
        response = client.get(url("policy_list"))
    assert len(response.context["page"]) >= 50


# --- create and validate ------------------------------------------------------------------------


def test_create_makes_a_custom_policy(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_create"),
        {"policy_name": "oss-read", "description": "d", "document": document("oss:Get*")},
    )
    assert response.status_code == 302
    assert response.url == url("policy_detail", "Custom", "oss-read")
    assert Policy.objects.get(name="oss-read").versions.get().document == document("oss:Get*")


def test_create_shows_the_evaluators_error_with_line_and_column(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_create"), {"policy_name": "broken", "document": '{\n  "Version": "1",\n}'}
    )
    assert response.status_code == 200
    assert b"line 3, column 1" in response.content
    assert not Policy.objects.filter(name="broken").exists()


def test_create_shows_grammar_errors_and_name_errors(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_create"), {"policy_name": "ecs_read!", "document": document("ecs")}
    )
    assert b"Use only letters, digits and hyphens (-)." in response.content
    assert b"Statement[0].Action" in response.content


def test_create_reports_a_duplicate_name(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_create"), {"policy_name": "ECS-read", "document": document()}
    )
    assert b"A policy with this name already exists." in response.content


def test_create_is_403_for_the_auditor(client, auditor_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("policy_create"), {"policy_name": "x", "document": document()})
    assert response.status_code == 403
    assert b"ram:CreatePolicy" in response.content


def test_validate_shows_the_evaluators_message(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": document("ecs")}, **HTMX)
    assert response.status_code == 200
    assert b"Statement[0].Action" in response.content
    assert b'data-testid="document-error"' in response.content


def test_validate_gives_line_and_column_of_json_errors(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": '{"Version": "1",,}'}, **HTMX)
    assert b"(line 1, column " in response.content


def test_validate_accepts_a_good_document(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": document()}, **HTMX)
    assert b"The policy document is valid." in response.content


def test_validate_refuses_an_over_long_document(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_validate"), {"document": "x" * 7000}, **HTMX)
    assert b"the limit is 6144" in response.content


def test_validate_needs_a_logon(client) -> None:
    assert client.post(url("policy_validate"), {"document": "{}"}).status_code == 302


# --- details ------------------------------------------------------------------------------------


def test_details_show_the_default_document_pretty(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_detail", "Custom", "ecs-read"))
    assert response.status_code == 200
    assert response.context["document"] == document()


def test_details_list_what_the_policy_is_attached_to(client, admin_a, custom, user_a) -> None:
    services.attach_policy(SYSTEM_ACTOR, user_a, custom)
    client.force_login(admin_a)
    response = client.get(url("policy_detail", "Custom", "ecs-read"))
    assert f'href="{url("user_detail", "bob")}"'.encode() in response.content


def test_system_policy_details_list_only_this_accounts_principals(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    response = client.get(url("policy_detail", "System", "AdministratorAccess"))
    assert response.status_code == 200
    assert b"admin" in response.content
    assert url("user_detail", "alice").encode() not in response.content


def test_details_of_another_accounts_policy_are_404(client, admin_a, custom_b) -> None:
    client.force_login(admin_a)
    assert client.get(url("policy_detail", "Custom", "b-only")).status_code == 404


def test_details_of_an_unknown_type_are_404(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    assert client.get(url("policy_detail", "Other", "ecs-read")).status_code == 404


def test_details_are_403_without_get_policy(client, user_a, custom) -> None:
    client.force_login(user_a)
    response = client.get(url("policy_detail", "Custom", "ecs-read"))
    assert response.status_code == 403
    assert b"ram:GetPolicy" in response.content


def test_auditor_sees_details_with_write_buttons_disabled(client, auditor_a, custom) -> None:
    client.force_login(auditor_a)
    content = client.get(url("policy_detail", "Custom", "ecs-read")).content.decode()
    for action in ("ram:DeletePolicy", "ram:CreatePolicyVersion", "ram:UpdatePolicyDescription"):
        assert action in content


def test_admin_edits_the_description(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    client.post(url("policy_edit", "Custom", "ecs-read"), {"description": "New words"})
    custom.refresh_from_db()
    assert custom.description == "New words"


def test_edit_is_403_for_the_auditor(client, auditor_a, custom) -> None:
    client.force_login(auditor_a)
    response = client.post(url("policy_edit", "Custom", "ecs-read"), {"description": "x"})
    assert response.status_code == 403
    assert b"ram:UpdatePolicyDescription" in response.content


# --- versions -----------------------------------------------------------------------------------


def test_new_version_becomes_default_when_asked(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_version_create", "Custom", "ecs-read"),
        {"document": document("ecs:*"), "set_as_default": "on"},
    )
    assert response.status_code == 302
    custom.refresh_from_db()
    assert custom.default_version == "v2"


def test_new_version_without_default_keeps_v1(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    client.post(url("policy_version_create", "Custom", "ecs-read"), {"document": document("ecs:*")})
    custom.refresh_from_db()
    assert custom.default_version == "v1"
    assert custom.versions.count() == 2


def test_new_version_shows_validation_errors(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(
        url("policy_version_create", "Custom", "ecs-read"), {"document": '{"Version": "2"}'}
    )
    assert response.status_code == 200
    assert b"field-error" in response.content
    assert custom.versions.count() == 1


def test_a_sixth_version_is_refused_with_the_reason(client, admin_a, custom) -> None:
    for action in ("ecs:A", "ecs:B", "ecs:C", "ecs:D"):
        services.create_policy_version(SYSTEM_ACTOR, custom, document=document(action))
    client.force_login(admin_a)
    response = client.post(
        url("policy_version_create", "Custom", "ecs-read"), {"document": document("ecs:E")}
    )
    assert response.status_code == 200
    assert b"as many versions as it may have" in response.content


def test_new_version_is_403_for_the_auditor(client, auditor_a, custom) -> None:
    client.force_login(auditor_a)
    response = client.post(
        url("policy_version_create", "Custom", "ecs-read"), {"document": document("ecs:*")}
    )
    assert response.status_code == 403
    assert b"ram:CreatePolicyVersion" in response.content


def test_admin_sets_the_default_version(client, admin_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document("ecs:*"))
    client.force_login(admin_a)
    client.post(url("policy_version_default", "Custom", "ecs-read", "v2"))
    custom.refresh_from_db()
    assert custom.default_version == "v2"


def test_set_default_is_403_for_the_auditor(client, auditor_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document("ecs:*"))
    client.force_login(auditor_a)
    response = client.post(url("policy_version_default", "Custom", "ecs-read", "v2"))
    assert response.status_code == 403
    assert b"ram:SetDefaultPolicyVersion" in response.content


def test_set_default_of_an_unknown_version_is_404(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    assert client.post(url("policy_version_default", "Custom", "ecs-read", "v9")).status_code == 404


def test_admin_deletes_a_non_default_version(client, admin_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document("ecs:*"))
    client.force_login(admin_a)
    client.post(url("policy_version_delete", "Custom", "ecs-read", "v2"))
    assert list(custom.versions.values_list("version_id", flat=True)) == ["v1"]


def test_deleting_the_default_version_is_explained(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_version_delete", "Custom", "ecs-read", "v1"), **HTMX)
    assert response.status_code == 200
    assert b"The default version cannot be deleted" in response.content


def test_delete_version_is_403_for_the_auditor(client, auditor_a, custom) -> None:
    services.create_policy_version(SYSTEM_ACTOR, custom, document=document("ecs:*"))
    client.force_login(auditor_a)
    response = client.post(url("policy_version_delete", "Custom", "ecs-read", "v2"))
    assert response.status_code == 403
    assert b"ram:DeletePolicyVersion" in response.content


# --- delete -------------------------------------------------------------------------------------


def test_admin_deletes_a_custom_policy(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_delete", "Custom", "ecs-read"), **HTMX)
    assert response["HX-Redirect"] == url("policy_list")
    assert not Policy.objects.filter(name="ecs-read").exists()


def test_delete_explains_an_attachment_conflict(client, admin_a, custom, user_a) -> None:
    services.attach_policy(SYSTEM_ACTOR, user_a, custom)
    client.force_login(admin_a)
    response = client.post(url("policy_delete", "Custom", "ecs-read"), **HTMX)
    assert b"Detach the policy from every user first." in response.content


def test_delete_is_403_for_the_auditor(client, auditor_a, custom) -> None:
    client.force_login(auditor_a)
    response = client.post(url("policy_delete", "Custom", "ecs-read"))
    assert response.status_code == 403
    assert b"ram:DeletePolicy" in response.content


def test_delete_of_another_accounts_policy_is_404(client, admin_a, custom_b) -> None:
    client.force_login(admin_a)
    assert client.post(url("policy_delete", "Custom", "b-only")).status_code == 404


def test_system_policies_cannot_be_deleted(client, admin_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("policy_delete", "System", "AdministratorAccess"), **HTMX)
    assert response.status_code in (200, 403)
    assert Policy.objects.filter(name="AdministratorAccess").exists()


# --- forms sent twice (double click, resent form): done once ------------------------------------


def test_the_create_forms_carry_a_one_time_token(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    assert b'name="form_token"' in client.get(url("policy_create")).content
    new_version = client.get(url("policy_version_create", "Custom", "ecs-read"))
    assert b'name="form_token"' in new_version.content


def test_a_create_sent_twice_makes_one_policy(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {"policy_name": "oss-read", "document": document("oss:Get*"), "form_token": "t" * 24}
    client.post(url("policy_create"), data)
    repeat = client.post(url("policy_create"), data)
    assert repeat.url == url("policy_detail", "Custom", "oss-read")
    assert AuditEvent.objects.filter(action="ram:CreatePolicy").count() == 1


def test_a_version_sent_twice_makes_one_version(client, admin_a, custom) -> None:
    client.force_login(admin_a)
    data = {"document": document("ecs:*"), "set_as_default": "on", "form_token": "t" * 24}
    client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    repeat = client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    assert repeat.url == url("policy_detail", "Custom", "ecs-read")
    assert custom.versions.count() == 2


def test_a_version_sent_again_after_ten_minutes_is_a_new_submission(
    client, admin_a, custom
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {"document": document("ecs:*"), "form_token": "t" * 24}
    client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        client.post(url("policy_version_create", "Custom", "ecs-read"), data)
    assert custom.versions.count() == 3
