"""iam.tags: tagging and untagging roles, users and custom policies (limits, Alibaba's codes, one
transaction, audit), and the acs:ResourceTag / acs:RequestTag / acs:TagKeys values the one
authorizer decides with."""

from __future__ import annotations

import json

import pytest

from iam import services, tags
from iam.audit import SYSTEM_ACTOR
from iam.authz import authorize
from iam.demo import trust_accounts
from iam.errors import EntityNotExist, InvalidParameter, LimitExceeded
from iam.identity import identity_for_user
from iam.models import Account, AuditEvent, Policy, Role, Tag, User

pytestmark = pytest.mark.django_db

DOCUMENT = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}


@pytest.fixture
def role(account_a: Account) -> Role:
    return services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )


@pytest.fixture
def policy(account_a: Account) -> Policy:
    return services.create_policy(SYSTEM_ACTOR, account_a, "ecs-all", document=DOCUMENT)


def test_tagging_adds_tags_and_replaces_a_keys_value(role: Role) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev", "team": "core"})
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "prod"})
    assert tags.tags_of(role) == {"env": "prod", "team": "core"}


def test_tagging_several_kinds_in_one_call(role: Role, policy: Policy, user_a: User) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role, policy, user_a], {"env": "dev"})
    assert Tag.objects.filter(key="env").count() == 3


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("", "x", "InvalidParameter.Tag.Key"),
        ("k" * 129, "x", "InvalidParameter.Tag.Key"),
        ("aliyun-owner", "x", "InvalidParameter.Tag.Key"),
        ("ACS:env", "x", "InvalidParameter.Tag.Key"),
        ("see http://x", "x", "InvalidParameter.Tag.Key"),
        ("env", "v" * 129, "InvalidParameter.Tag.Value"),
        ("env", "https://example.com", "InvalidParameter.Tag.Value"),
    ],
)
def test_bad_tags_are_refused_with_alibabas_code(
    role: Role, key: str, value: str, code: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        tags.tag_resources(SYSTEM_ACTOR, [role], {key: value})
    assert caught.value.code == code
    assert not Tag.objects.exists()


def test_an_empty_value_is_a_tag(role: Role) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role], {"flag": ""})
    assert tags.tags_of(role) == {"flag": ""}


def test_a_resource_holds_at_most_twenty_tags_and_a_failed_call_changes_nothing(
    role: Role, policy: Policy
) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role], {f"k{index}": "v" for index in range(20)})
    with pytest.raises(LimitExceeded):
        tags.tag_resources(SYSTEM_ACTOR, [policy, role], {"one-more": "v"})
    assert not Tag.objects.filter(policy=policy).exists()
    assert Tag.objects.filter(role=role).count() == 20


def test_more_than_twenty_tags_in_one_request_is_invalid(role: Role) -> None:
    with pytest.raises(InvalidParameter) as caught:
        tags.check_tags([(f"k{index}", "v") for index in range(21)])
    assert caught.value.code == "InvalidParameter.Tag"


def test_tagging_is_audited_once_per_resource_with_before_and_after(
    role: Role, policy: Policy
) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role, policy], {"env": "dev"})
    events = AuditEvent.objects.filter(action="ram:TagResources").order_by("id")
    assert [event.resource_arn for event in events] == [role.arn, policy.arn_for(policy.account_id)]
    assert events[0].details["after"] == {"Tags": {"env": "dev"}}


def test_tagging_moves_the_accounts_version(role: Role, account_a: Account) -> None:
    before = Account.objects.get(pk=account_a.pk).version
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev"})
    assert Account.objects.get(pk=account_a.pk).version > before


def test_untag_removes_named_keys_and_passes_over_missing_ones(role: Role) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev", "team": "core"})
    removed = tags.untag_resources(SYSTEM_ACTOR, [role], ["env", "absent"])
    assert removed == 1
    assert tags.tags_of(role) == {"team": "core"}


def test_untag_all_removes_every_tag(role: Role) -> None:
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev", "team": "core"})
    tags.untag_resources(SYSTEM_ACTOR, [role], None)
    assert tags.tags_of(role) == {}
    assert AuditEvent.objects.filter(action="ram:UntagResources").count() == 1


def test_another_accounts_role_is_not_found(account_b: Account, role: Role) -> None:
    with pytest.raises(EntityNotExist) as caught:
        tags.find_roles(account_b, ["ops"])
    assert caught.value.code == "EntityNotExist.Role"


def test_system_policies_are_not_taggable(account_a: Account) -> None:
    with pytest.raises(EntityNotExist):
        tags.find_policies(account_a, ["AdministratorAccess"])


def test_users_are_found_by_principal_name_and_user_id(account_a: Account, user_a: User) -> None:
    found = tags.find_users(
        account_a, names=["bob@company-a.onaliyun.com"], user_ids=[user_a.user_id]
    )
    assert found == [user_a, user_a]


def test_list_filter_reads_key_or_key_and_value() -> None:
    assert tags.parse_filter("env") == ("env", None)
    assert tags.parse_filter(" env : dev ") == ("env", "dev")


def test_filtered_keeps_only_resources_with_the_tag(account_a: Account, role: Role) -> None:
    other = services.create_role(
        SYSTEM_ACTOR, account_a, "other", trust_policy=trust_accounts(account_a.pk)
    )
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev"})
    tags.tag_resources(SYSTEM_ACTOR, [other], {"env": "prod"})
    roles = Role.objects.filter(account=account_a)
    assert list(tags.filtered(roles, "env", "dev")) == [role]
    assert tags.filtered(roles, "env", None).count() == 2


# --- the authorizer -----------------------------------------------------------------------------


def conditional_user(account: Account, condition: dict) -> User:
    document = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "ram:UpdateRole", "Resource": "*", "Condition": condition}
        ],
    }
    policy = services.create_policy(
        SYSTEM_ACTOR, account, "dev-only", document=json.dumps(document)
    )
    user = services.create_user(SYSTEM_ACTOR, account, "dev")
    services.attach_policy(SYSTEM_ACTOR, user, policy)
    return user


def test_resource_tags_decide_a_resource_tag_condition(account_a: Account, role: Role) -> None:
    prod = services.create_role(
        SYSTEM_ACTOR, account_a, "prod", trust_policy=trust_accounts(account_a.pk)
    )
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev"})
    tags.tag_resources(SYSTEM_ACTOR, [prod], {"env": "prod"})
    user = conditional_user(account_a, {"StringEquals": {"acs:ResourceTag/env": "dev"}})
    assert authorize(identity_for_user(user), "ram:UpdateRole", role.arn).allowed
    assert not authorize(identity_for_user(user), "ram:UpdateRole", prod.arn).allowed


def test_a_policy_without_tag_conditions_reads_no_tags(
    account_a: Account, role: Role, admin_a: User, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    identity = identity_for_user(admin_a)
    authorize(identity, "ram:UpdateRole", role.arn)
    with django_assert_num_queries(0):
        assert authorize(identity, "ram:UpdateRole", role.arn).allowed


def test_request_tags_and_tag_keys_reach_the_conditions(account_a: Account, role: Role) -> None:
    user = conditional_user(
        account_a,
        {"StringEquals": {"acs:RequestTag/env": "dev", "acs:TagKeys": "env"}},
    )
    identity = identity_for_user(user)
    assert authorize(
        identity, "ram:UpdateRole", role.arn, tags.request_context({"env": "dev"})
    ).allowed
    assert not authorize(
        identity, "ram:UpdateRole", role.arn, tags.request_context({"env": "prod"})
    ).allowed


def test_remembered_tags_spare_the_query(
    account_a: Account, role: Role, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    tags.tag_resources(SYSTEM_ACTOR, [role], {"env": "dev"})
    user = conditional_user(account_a, {"StringEquals": {"acs:ResourceTag/env": "dev"}})
    identity = identity_for_user(user)
    authorize(identity, "ram:UpdateRole", f"acs:ram::{account_a.pk}:role/warm")
    tags.remember(identity, Role.objects.filter(pk=role.pk).prefetch_related("tags"))
    with django_assert_num_queries(0):
        assert authorize(identity, "ram:UpdateRole", role.arn).allowed
