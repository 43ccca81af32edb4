"""The Authorize dialog: attach several policies to a role, user or group in one transaction."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from iam.models import Policy, PolicyAttachment

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def role_a(account_a):  # type: ignore[no-untyped-def]
    return services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )


def url(kind: str = "role", name: str = "ops") -> str:
    return reverse("console:authorize", args=[kind, name])


def attached_names(**principal):  # type: ignore[no-untyped-def]
    return set(PolicyAttachment.objects.filter(**principal).values_list("policy__name", flat=True))


def test_anonymous_goes_to_logon(client, role_a) -> None:  # type: ignore[no-untyped-def]
    assert client.get(url()).status_code == 302


def test_user_without_policies_is_denied_naming_the_action(client, user_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user_a)
    response = client.get(url())
    assert response.status_code == 403
    assert b"ram:AttachPolicyToRole" in response.content
    assert role_a.arn.encode() in response.content


def test_another_accounts_role_is_404(client, admin_a, account_b) -> None:  # type: ignore[no-untyped-def]
    services.create_role(
        SYSTEM_ACTOR, account_b, "theirs", trust_policy=trust_accounts(account_b.pk)
    )
    client.force_login(admin_a)
    assert client.get(url(name="theirs")).status_code == 404


def test_unknown_kind_is_404(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert client.get(url(kind="account")).status_code == 404


def test_auditor_forging_an_attach_gets_403(client, auditor_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(auditor_a)
    response = client.post(url(), {"policy": ["System:ReadOnlyAccess"]})
    assert response.status_code == 403
    assert attached_names(role=role_a) == set()


def test_dialog_fragment_lists_policies_with_attached_ones_disabled(
    client, admin_a, role_a
) -> None:  # type: ignore[no-untyped-def]
    services.attach_policy(SYSTEM_ACTOR, role_a, Policy.objects.get(name="ReadOnlyAccess"))
    client.force_login(admin_a)
    text = client.get(url(), **HTMX).content.decode()
    assert "<html" not in text
    assert 'value="System:AliyunOSSReadOnlyAccess"' in text
    assert 'value="System:ReadOnlyAccess"' not in text
    assert "Attached" in text


def test_without_htmx_the_dialog_is_a_page(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    assert b"<html" in client.get(url()).content


def test_search_returns_the_list_fragment_keeping_ticks(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.get(
        url(),
        {"q": "oss", "policy": ["System:ReadOnlyAccess"]},
        HTTP_HX_TARGET="authorize-policy-list",
        **HTMX,
    )
    text = response.content.decode()
    assert text.startswith('<div id="authorize-policy-list"')
    assert "AliyunOSSReadOnlyAccess" in text and "AdministratorAccess" not in text
    assert '<input type="hidden" name="policy" value="System:ReadOnlyAccess">' in text


def test_ok_attaches_several_policies_and_closes_the_dialog(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(
        url(), {"policy": ["System:ReadOnlyAccess", "System:AliyunOSSReadOnlyAccess"]}, **HTMX
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["closeModal"] is True
    assert attached_names(role=role_a) == {"ReadOnlyAccess", "AliyunOSSReadOnlyAccess"}


def test_a_failing_policy_attaches_none(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    services.attach_policy(SYSTEM_ACTOR, role_a, Policy.objects.get(name="AliyunOSSReadOnlyAccess"))
    client.force_login(admin_a)
    response = client.post(
        url(), {"policy": ["System:ReadOnlyAccess", "System:AliyunOSSReadOnlyAccess"]}, **HTMX
    )
    assert response.status_code == 200
    assert b"already been attached" in response.content
    assert attached_names(role=role_a) == {"AliyunOSSReadOnlyAccess"}


def test_nothing_ticked_is_an_error(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url(), {}, **HTMX)
    assert b"Select at least one policy." in response.content


def test_unknown_policy_is_an_error(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url(), {"policy": ["Custom:" + "x" * 5000]}, **HTMX)
    assert response.status_code == 200
    assert b"No such policy" in response.content


def test_another_accounts_custom_policy_cannot_be_attached(
    client, admin_a, role_a, account_b
) -> None:  # type: ignore[no-untyped-def]
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}],
    }
    services.create_policy(SYSTEM_ACTOR, account_b, "theirs", document=document)
    client.force_login(admin_a)
    response = client.post(url(), {"policy": ["Custom:theirs"]}, **HTMX)
    assert b"No such policy" in response.content


def test_custom_policies_of_the_account_are_offered(client, admin_a, role_a, account_a) -> None:  # type: ignore[no-untyped-def]
    document = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "oss:*", "Resource": "*"}],
    }
    services.create_policy(SYSTEM_ACTOR, account_a, "mine", document=document)
    client.force_login(admin_a)
    client.post(url(), {"policy": ["Custom:mine"]}, **HTMX)
    assert attached_names(role=role_a) == {"mine"}


def test_without_htmx_ok_redirects_to_next(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url(), {"policy": ["System:ReadOnlyAccess"], "next": "/roles/"})
    assert response.status_code == 302
    assert response["Location"] == "/roles/"


def test_next_to_another_site_is_ignored(client, admin_a, role_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(
        url(), {"policy": ["System:ReadOnlyAccess"], "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("console:role_permissions", args=["ops"])


def test_users_can_be_authorized(client, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    response = client.post(url("user", "bob"), {"policy": ["System:ReadOnlyAccess"]}, **HTMX)
    assert response.status_code == 204
    assert attached_names(user=user_a) == {"ReadOnlyAccess"}


def test_groups_can_be_authorized(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    group = services.create_group(SYSTEM_ACTOR, account_a, "ops-team")
    client.force_login(admin_a)
    client.post(url("group", "ops-team"), {"policy": ["System:ReadOnlyAccess"]}, **HTMX)
    assert attached_names(group=group) == {"ReadOnlyAccess"}


def test_attaching_to_a_group_needs_its_action(client, user_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_group(SYSTEM_ACTOR, account_a, "ops-team")
    client.force_login(user_a)
    response = client.get(url("group", "ops-team"))
    assert b"ram:AttachPolicyToGroup" in response.content
