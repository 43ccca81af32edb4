"""TagResources, UntagResources and ListTagResources with the official SDKs against a live
server: RAM (``alibabacloud-ram20150501``: roles and policies, JSON-style lists) and IMS
(``alibabacloud-ims20190815``: users, ``.N`` lists), Tag on CreateRole, Alibaba's codes, other
accounts' resources never found, and ``acs:ResourceTag/<key>`` deciding an action."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_ims20190815 import models as ims_models
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_tea_openapi.exceptions import ClientException

from iam import services, tags
from iam.audit import SYSTEM_ACTOR
from iam.models import Policy, Tag
from tests.api.conftest import Key, World, key_for, trust
from tests.api.sdk import ram
from tests.api.test_identity_provider_api import ims

DOCUMENT = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)


def admin(world: World, key: Key | None = None) -> Any:
    key = key or world.admin_a_key
    return ram(world.endpoint, key.access_key_id, key.secret)


def error_of(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value.status_code, caught.value.code


def tag_role(client: Any, names: list[str], **pairs: str) -> Any:
    request = ram_models.TagResourcesRequest(
        resource_type="role",
        resource_names=names,
        tag=[ram_models.TagResourcesRequestTag(key=k, value=v) for k, v in pairs.items()],
    )
    return client.tag_resources(request)


def list_role_tags(client: Any, **extra: Any) -> Any:
    request = ram_models.ListTagResourcesRequest(resource_type="role", **extra)
    return client.list_tag_resources(request).body


def test_tag_and_list_a_role(world: World) -> None:
    client = admin(world)
    tag_role(client, ["ops-admin"], env="dev", team="core")
    body = list_role_tags(client, resource_names=["ops-admin"])
    rows = {
        (row.resource_name, row.resource_type, row.tag_key, row.tag_value)
        for row in body.tag_resources
    }
    assert rows == {("ops-admin", "role", "env", "dev"), ("ops-admin", "role", "team", "core")}
    assert body.request_id


def test_list_filters_by_tag_and_pages_with_next_token(world: World) -> None:
    client = admin(world)
    services.create_role(
        SYSTEM_ACTOR,
        world.company_a,
        "other",
        trust_policy=trust(f"acs:ram::{world.company_a.pk}:root"),
    )
    tag_role(client, ["ops-admin", "other"], env="dev")
    tag_role(client, ["other"], team="web")
    wanted = [ram_models.ListTagResourcesRequestTag(key="team", value="web")]
    filtered = list_role_tags(client, tag=wanted)
    first = list_role_tags(client, page_size=2)
    second = list_role_tags(client, page_size=2, next_token=first.next_token)
    assert {row.resource_name for row in filtered.tag_resources} == {"other"}
    assert len(first.tag_resources) == 2 and len(second.tag_resources) == 1
    assert second.next_token is None


def test_untag_named_keys_then_all(world: World) -> None:
    client = admin(world)
    tag_role(client, ["ops-admin"], env="dev", team="core", tier="1")
    client.untag_resources(
        ram_models.UntagResourcesRequest(
            resource_type="role", resource_names=["ops-admin"], tag_keys=["env"]
        )
    )
    assert tags.tags_of(world.role) == {"team": "core", "tier": "1"}
    client.untag_resources(
        ram_models.UntagResourcesRequest(
            resource_type="role", resource_names=["ops-admin"], all=True
        )
    )
    assert tags.tags_of(world.role) == {}


def test_a_custom_policy_is_tagged_by_name(world: World) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, world.company_a, "ecs-all", document=DOCUMENT)
    admin(world).tag_resources(
        ram_models.TagResourcesRequest(
            resource_type="policy",
            resource_names=["ecs-all"],
            tag=[ram_models.TagResourcesRequestTag(key="owner", value="ops")],
        )
    )
    assert tags.tags_of(policy) == {"owner": "ops"}


def test_create_role_takes_tags(world: World) -> None:
    admin(world).create_role(
        ram_models.CreateRoleRequest(
            role_name="tagged",
            assume_role_policy_document=trust(f"acs:ram::{world.company_a.pk}:root"),
            tag=[ram_models.CreateRoleRequestTag(key="env", value="dev")],
        )
    )
    assert Tag.objects.filter(role__name="tagged", key="env", value="dev").exists()


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("aliyun:x", "v", "InvalidParameter.Tag.Key"),
        ("k" * 129, "v", "InvalidParameter.Tag.Key"),
        ("env", "http://x", "InvalidParameter.Tag.Value"),
    ],
)
def test_bad_tags_get_alibabas_code_and_400(world: World, key: str, value: str, code: str) -> None:
    assert error_of(lambda: tag_role(admin(world), ["ops-admin"], **{key: value})) == (400, code)
    assert not Tag.objects.exists()


def test_a_twenty_first_tag_is_refused(world: World) -> None:
    client = admin(world)
    tag_role(client, ["ops-admin"], **{f"k{index}": "v" for index in range(20)})
    assert error_of(lambda: tag_role(client, ["ops-admin"], extra="v")) == (
        409,
        "LimitExceeded.Tag",
    )


def test_an_unknown_resource_type_is_invalid(world: World) -> None:
    request = ram_models.ListTagResourcesRequest(resource_type="group")
    status, code = error_of(lambda: admin(world).list_tag_resources(request))
    assert (status, code) == (400, "InvalidParameter.ResourceType")


def test_another_accounts_role_is_not_found(world: World) -> None:
    status, code = error_of(
        lambda: tag_role(admin(world, world.root_b_key), ["ops-admin"], env="x")
    )
    assert (status, code) == (404, "EntityNotExist.Role")
    assert not Tag.objects.exists()


def test_a_read_only_user_may_list_but_not_tag(world: World) -> None:
    reader = services.create_user(SYSTEM_ACTOR, world.company_a, "reader")
    services.attach_policy(SYSTEM_ACTOR, reader, Policy.objects.get(name="AliyunRAMReadOnlyAccess"))
    client = admin(world, key_for(reader))
    assert error_of(lambda: tag_role(client, ["ops-admin"], env="x")) == (403, "NoPermission")
    assert list_role_tags(client).tag_resources == []


# --- users, in IMS --------------------------------------------------------------------------------


def test_ims_tags_lists_and_untags_a_user(world: World) -> None:
    user = services.create_user(SYSTEM_ACTOR, world.company_a, "carol")
    client = ims(world, world.admin_a_key)
    client.tag_resources(
        ims_models.TagResourcesRequest(
            resource_type="user",
            resource_principal_name=["carol"],
            tag=[ims_models.TagResourcesRequestTag(key="dept", value="finance")],
        )
    )
    listed = client.list_tag_resources(
        ims_models.ListTagResourcesRequest(resource_type="user", resource_id=[user.user_id])
    ).body
    row = listed.tag_resources.tag_resource[0]
    assert (row.resource_id, row.tag_key, row.tag_value) == (user.user_id, "dept", "finance")
    client.untag_resources(
        ims_models.UntagResourcesRequest(
            resource_type="user", resource_id=[user.user_id], tag_key=["dept"]
        )
    )
    assert tags.tags_of(user) == {}


def test_ims_does_not_find_another_accounts_user(world: World) -> None:
    client = ims(world, world.admin_a_key)
    request = ims_models.TagResourcesRequest(
        resource_type="user",
        resource_principal_name=["alice"],
        tag=[ims_models.TagResourcesRequestTag(key="dept", value="x")],
    )
    assert error_of(lambda: client.tag_resources(request)) == (404, "EntityNotExist.User")


# --- acs:ResourceTag decides ----------------------------------------------------------------------


def test_a_resource_tag_condition_allows_the_dev_role_and_denies_the_prod_one(world: World) -> None:
    account = world.company_a
    root = trust(f"acs:ram::{account.pk}:root")
    dev = services.create_role(SYSTEM_ACTOR, account, "dev-app", trust_policy=root)
    prod = services.create_role(SYSTEM_ACTOR, account, "prod-app", trust_policy=root)
    tags.tag_resources(SYSTEM_ACTOR, [dev], {"env": "dev"})
    tags.tag_resources(SYSTEM_ACTOR, [prod], {"env": "prod"})
    statement = {
        "Effect": "Allow",
        "Action": "ram:UpdateRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"acs:ResourceTag/env": "dev"}},
    }
    policy = services.create_policy(
        SYSTEM_ACTOR,
        account,
        "dev-roles",
        document=json.dumps({"Version": "1", "Statement": [statement]}),
    )
    developer = services.create_user(SYSTEM_ACTOR, account, "developer")
    services.attach_policy(SYSTEM_ACTOR, developer, policy)
    client = admin(world, key_for(developer))

    def update(name: str) -> Any:
        return client.update_role(ram_models.UpdateRoleRequest(role_name=name, new_description="x"))

    assert update("dev-app").body.role.description == "x"
    assert error_of(lambda: update("prod-app")) == (403, "NoPermission")
