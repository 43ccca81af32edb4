"""The Tags card of role, user and policy details, its add and remove forms (with and without
htmx), filtering the lists by tag, and acs:ResourceTag deciding a console action; with the
permission matrix (anonymous, denied, another account, allowed)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iam import services, tags
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from iam.models import Account, AuditEvent, Role, Tag, User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DOCUMENT = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}


def new_role(account: Account, name: str = "ops", **tag_values: str) -> Role:
    role = services.create_role(
        SYSTEM_ACTOR, account, name, trust_policy=trust_accounts(account.pk)
    )
    if tag_values:
        tags.tag_resources(SYSTEM_ACTOR, [role], tag_values)
    return role


def tags_url(role: Role) -> str:
    return reverse("console:role_tags", args=[role.name])


def untag_url(role: Role) -> str:
    return reverse("console:role_untag", args=[role.name])


# --- the card and its forms ---------------------------------------------------------------------


def test_anonymous_people_go_to_logon(client, account_a) -> None:  # type: ignore[no-untyped-def]
    response = client.get(tags_url(new_role(account_a)))
    assert response.status_code == 302
    assert "/logon/" in response["Location"]


def test_role_details_show_the_tags_card(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a, env="dev")
    client.force_login(admin_a)
    text = client.get(reverse("console:role_detail", args=[role.name])).content.decode()
    assert 'id="resource-tags"' in text
    assert 'data-tag="env"' in text


def test_adding_a_tag_without_javascript_saves_and_returns_to_details(
    client, admin_a, account_a
) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a)
    client.force_login(admin_a)
    response = client.post(tags_url(role), {"key": "env", "value": "dev"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:role_detail", args=[role.name]))
    assert tags.tags_of(role) == {"env": "dev"}
    assert AuditEvent.objects.filter(action="ram:TagResources", resource_arn=role.arn).exists()


def test_adding_a_tag_with_htmx_answers_the_card(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a)
    client.force_login(admin_a)
    response = client.post(tags_url(role), {"key": "env", "value": "dev"}, **HTMX)
    text = response.content.decode()
    assert "<html" not in text
    assert 'data-tag="env"' in text and "Tag env saved." in text


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("", "dev", "Enter a tag key."),
        ("acs:env", "dev", "cannot start with aliyun or acs:"),
        ("env", "https://x", "cannot contain http://"),
        ("k" * 200, "dev", "at most 128 characters"),
    ],
)
def test_a_bad_tag_gets_a_field_error_and_changes_nothing(
    client, admin_a, account_a, key, value, error
) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a)
    client.force_login(admin_a)
    response = client.post(tags_url(role), {"key": key, "value": value}, **HTMX)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Tag.objects.exists()


def test_the_twenty_first_tag_is_refused_in_words(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a, **{f"k{index}": "v" for index in range(20)})
    client.force_login(admin_a)
    response = client.post(tags_url(role), {"key": "one-more", "value": "v"}, **HTMX)
    assert "at most 20 tags" in response.content.decode()
    assert Tag.objects.filter(role=role).count() == 20


def test_removing_a_tag(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a, env="dev", team="core")
    client.force_login(admin_a)
    response = client.post(untag_url(role), {"key": "env"}, **HTMX)
    assert 'data-tag="team"' in response.content.decode()
    assert tags.tags_of(role) == {"team": "core"}


def test_an_auditor_sees_tags_with_the_forms_denied(client, auditor_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a, env="dev")
    client.force_login(auditor_a)
    text = client.get(tags_url(role)).content.decode()
    assert 'data-tag="env"' in text
    assert "ram:TagResources" in text and "ram:UntagResources" in text
    assert 'aria-disabled="true"' in text


def test_a_denied_add_is_403_naming_the_action(client, auditor_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a)
    client.force_login(auditor_a)
    response = client.post(tags_url(role), {"key": "env", "value": "dev"})
    assert response.status_code == 403
    assert b"ram:TagResources" in response.content
    assert not Tag.objects.exists()


def test_a_denied_remove_is_403(client, auditor_a, account_a) -> None:  # type: ignore[no-untyped-def]
    role = new_role(account_a, env="dev")
    client.force_login(auditor_a)
    assert client.post(untag_url(role), {"key": "env"}).status_code == 403
    assert tags.tags_of(role) == {"env": "dev"}


def test_another_accounts_role_is_404(client, admin_a, account_b) -> None:  # type: ignore[no-untyped-def]
    theirs = new_role(account_b, "theirs", env="prod")
    client.force_login(admin_a)
    assert client.get(tags_url(theirs)).status_code == 404
    assert client.post(tags_url(theirs), {"key": "x", "value": "y"}).status_code == 404
    assert client.post(untag_url(theirs), {"key": "env"}).status_code == 404
    assert tags.tags_of(theirs) == {"env": "prod"}


def test_user_tags_are_edited_on_the_user(client, admin_a, user_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    client.post(reverse("console:user_tags", args=[user_a.name]), {"key": "dept", "value": "ops"})
    text = client.get(reverse("console:user_detail", args=[user_a.name])).content.decode()
    assert 'data-tag="dept"' in text


def test_custom_policy_tags_and_none_for_system_policies(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "ecs-all", document=DOCUMENT)
    client.force_login(admin_a)
    client.post(
        reverse("console:policy_tags", args=["Custom", policy.name]), {"key": "o", "value": "x"}
    )
    system = reverse("console:policy_tags", args=["System", "AdministratorAccess"])
    assert tags.tags_of(policy) == {"o": "x"}
    assert client.get(system).status_code == 404
    detail = reverse("console:policy_detail", args=["System", "AdministratorAccess"])
    assert 'id="resource-tags"' not in client.get(detail).content.decode()


# --- lists --------------------------------------------------------------------------------------


def test_role_list_shows_tags_and_filters_by_key_and_value(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    new_role(account_a, "dev-app", env="dev")
    new_role(account_a, "prod-app", env="prod")
    new_role(account_a, "plain")
    client.force_login(admin_a)
    by_value = client.get(reverse("console:role_list"), {"tag": "env:dev"}).content.decode()
    by_key = client.get(reverse("console:role_list"), {"tag": "env"}).content.decode()
    assert 'data-role="dev-app"' in by_value and 'data-role="prod-app"' not in by_value
    assert "env: dev" in by_value
    assert by_key.count('data-role="') == 2


def test_user_and_policy_lists_filter_by_tag(client, admin_a, account_a, user_a) -> None:  # type: ignore[no-untyped-def]
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "ecs-all", document=DOCUMENT)
    tags.tag_resources(SYSTEM_ACTOR, [user_a, policy], {"team": "core"})
    client.force_login(admin_a)
    users = client.get(reverse("console:user_list"), {"tag": "team:core"}).content.decode()
    policies = client.get(reverse("console:policy_list"), {"tag": "team"}).content.decode()
    assert reverse("console:user_detail", args=["bob"]) in users
    assert reverse("console:user_detail", args=["admin"]) not in users
    assert "ecs-all" in policies and "AdministratorAccess" not in policies


def test_a_filter_that_matches_nothing_says_so(client, admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    new_role(account_a)
    client.force_login(admin_a)
    text = client.get(reverse("console:role_list"), {"tag": "nope:\x00x"}).content.decode()
    assert "No role has the tag" in text


def tag_conditional_user(account: Account) -> User:
    statement = {
        "Effect": "Allow",
        "Action": ["ram:ListRoles", "ram:GetRole", "ram:UpdateRole", "ram:DeleteRole"],
        "Resource": "*",
        "Condition": {"StringEquals": {"acs:ResourceTag/env": ["dev", "any"]}},
    }
    listing = {"Effect": "Allow", "Action": ["ram:ListRoles", "ram:GetRole"], "Resource": "*"}
    document = {"Version": "1", "Statement": [statement, listing]}
    policy = services.create_policy(
        SYSTEM_ACTOR, account, "dev-roles", document=json.dumps(document)
    )
    user = make_user(account, "developer")
    services.attach_policy(SYSTEM_ACTOR, user, policy)
    return user


def test_role_list_reads_tags_once_whatever_the_rows(client, account_a) -> None:  # type: ignore[no-untyped-def]
    user = tag_conditional_user(account_a)
    for index in range(3):
        new_role(account_a, f"r{index}", env="dev")
    client.force_login(user)
    client.get(reverse("console:role_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("console:role_list"))
    for index in range(3, 30):
        new_role(account_a, f"r{index}", env="prod")
    client.get(reverse("console:role_list"))
    with CaptureQueriesContext(connection) as many:
        text = client.get(reverse("console:role_list")).content.decode()
    assert len(many) == len(few)
    assert text.count('data-role="') == 30


# --- acs:ResourceTag decides ----------------------------------------------------------------------


def test_a_resource_tag_condition_lets_a_dev_role_be_updated_and_not_a_prod_one(
    client, account_a
) -> None:  # type: ignore[no-untyped-def]
    dev = new_role(account_a, "dev-app", env="dev")
    prod = new_role(account_a, "prod-app", env="prod")
    client.force_login(tag_conditional_user(account_a))
    form = {"description": "changed", "max_session_duration": "3600"}
    allowed = client.post(reverse("console:role_update", args=[dev.name]), form)
    denied = client.post(reverse("console:role_update", args=[prod.name]), form)
    assert allowed.status_code in (200, 302)
    assert Role.objects.get(pk=dev.pk).description == "changed"
    assert denied.status_code == 403
    assert Role.objects.get(pk=prod.pk).description == ""


def test_the_role_list_disables_delete_by_the_rows_tags(client, account_a) -> None:  # type: ignore[no-untyped-def]
    new_role(account_a, "dev-app", env="dev")
    new_role(account_a, "prod-app", env="prod")
    client.force_login(tag_conditional_user(account_a))
    text = client.get(reverse("console:role_list")).content.decode()
    assert reverse("console:role_delete", args=["dev-app"]) in text
    assert reverse("console:role_delete", args=["prod-app"]) not in text
