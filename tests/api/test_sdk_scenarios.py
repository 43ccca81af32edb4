"""The seed's scenarios end to end, with the official Alibaba Cloud SDKs against a live server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest
from aliyunsdksts.request.v20150401.GetCallerIdentityRequest import GetCallerIdentityRequest

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Role
from iam.policy import evaluate
from sts.models import RoleSession
from tests.api.conftest import World, system_policy, trust
from tests.api.sdk import assume, legacy_call, ram, ram_models, sts, sts_models

FOLDER_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:PutObject"],
                "Resource": "acs:oss:*:*:bucket/users/42/*",
            }
        ],
    }
)


def alice_sts(world: World, signature: str = "v3"):  # type: ignore[no-untyped-def]
    return sts(
        world.endpoint, world.alice_key.access_key_id, world.alice_key.secret, signature=signature
    )


def error_of(call) -> ClientException:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_app_server_hands_out_a_30_minute_token_for_one_folder(
    world: World, signature: str
) -> None:
    body = assume(
        alice_sts(world, signature),
        world.role.arn,
        session="mobile-42",
        duration_seconds=1800,
        policy=FOLDER_POLICY,
    )
    expiration = datetime.strptime(body.credentials.expiration, "%Y-%m-%dT%H:%M:%SZ")
    expected = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1800)
    assert abs((expiration - expected).total_seconds()) < 60
    assert body.credentials.access_key_id.startswith("STS.")
    assert body.assumed_role_user.arn == f"{world.role.arn}/mobile-42"
    assert body.assumed_role_user.assumed_role_id == f"{world.role.role_id}:mobile-42"


def test_the_tokens_permissions_are_the_intersection(world: World) -> None:
    role_policies = [a.policy.versions.get().document for a in world.role.attachments.all()]
    inside = "acs:oss:*:*:bucket/users/42/photo.jpg"
    outside = "acs:oss:*:*:bucket/users/43/photo.jpg"
    assert evaluate(role_policies, "oss:GetObject", inside, session_policy=FOLDER_POLICY).allowed
    assert not evaluate(
        role_policies, "oss:GetObject", outside, session_policy=FOLDER_POLICY
    ).allowed
    assert not evaluate(
        role_policies, "ram:ListRoles", "acs:ram::1:role/*", session_policy=FOLDER_POLICY
    ).allowed


def test_cross_account_operator_manages_roles_with_the_token(world: World) -> None:
    creds = assume(alice_sts(world), world.role.arn).credentials
    client = ram(world.endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token)
    roles = client.list_roles(ram_models.ListRolesRequest()).body
    assert [r.role_name for r in roles.roles.role] == ["ops-admin"]
    created = client.create_role(
        ram_models.CreateRoleRequest(
            role_name="made-by-b",
            assume_role_policy_document=trust(f"acs:ram::{world.company_a.pk}:root"),
        )
    ).body
    assert created.role.arn == f"acs:ram::{world.company_a.pk}:role/made-by-b"
    event = AuditEvent.objects.get(action="ram:CreateRole", resource_arn=created.role.arn)
    assert event.logon_identity == world.alice.arn


def test_user_without_assume_role_permission_is_refused(world: World) -> None:
    client = sts(world.endpoint, world.bob_key.access_key_id, world.bob_key.secret)
    error = error_of(lambda: assume(client, world.role.arn, session="bob"))
    assert error.code == "NoPermission"
    assert error.status_code == 403


def test_removing_the_trust_ends_assuming_and_existing_tokens(world: World) -> None:
    creds = assume(alice_sts(world), world.role.arn).credentials
    services.update_role(
        SYSTEM_ACTOR,
        Role.objects.get(pk=world.role.pk),
        trust_policy=trust(f"acs:ram::{world.company_a.pk}:root"),
    )
    assert error_of(lambda: assume(alice_sts(world), world.role.arn)).code == "NoPermission"
    client = ram(world.endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token)
    error = error_of(lambda: client.list_roles(ram_models.ListRolesRequest()))
    assert error.code == "InvalidSecurityToken.Revoked"


def test_revoking_one_session_rejects_its_token(world: World) -> None:
    creds = assume(alice_sts(world), world.role.arn, session="one").credentials
    other = assume(alice_sts(world), world.role.arn, session="two").credentials
    RoleSession.objects.filter(session_name="one").update(revoked_at=datetime.now(UTC))
    revoked = sts(
        world.endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token
    )
    still_good = sts(
        world.endpoint, other.access_key_id, other.access_key_secret, other.security_token
    )
    assert error_of(revoked.get_caller_identity).code == "InvalidSecurityToken.Revoked"
    assert still_good.get_caller_identity().body.identity_type == "AssumedRoleUser"


def test_revoke_active_sessions_and_role_deletion(world: World) -> None:
    creds = assume(alice_sts(world), world.role.arn).credentials
    role = Role.objects.get(pk=world.role.pk)
    services.revoke_role_sessions(SYSTEM_ACTOR, role)
    client = sts(world.endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token)
    assert error_of(client.get_caller_identity).code == "InvalidSecurityToken.Revoked"


def test_root_access_keys_cannot_assume_roles(world: World) -> None:
    client = sts(world.endpoint, world.root_b_key.access_key_id, world.root_b_key.secret)
    error = error_of(lambda: assume(client, world.role.arn, session="root"))
    assert (error.code, error.status_code) == ("NoPermission", 403)


def test_get_caller_identity_for_each_kind(world: World) -> None:
    user = alice_sts(world).get_caller_identity().body
    root = (
        sts(world.endpoint, world.root_b_key.access_key_id, world.root_b_key.secret)
        .get_caller_identity()
        .body
    )
    creds = assume(alice_sts(world), world.role.arn, session="who").credentials
    session = (
        sts(world.endpoint, creds.access_key_id, creds.access_key_secret, creds.security_token)
        .get_caller_identity()
        .body
    )
    assert (user.identity_type, user.arn, user.user_id) == (
        "RAMUser",
        world.alice.arn,
        world.alice.user_id,
    )
    assert (root.identity_type, root.arn) == ("Account", f"acs:ram::{world.company_b.pk}:root")
    assert (session.identity_type, session.arn, session.principal_id) == (
        "AssumedRoleUser",
        f"acs:ram::{world.company_a.pk}:assumed-role/ops-admin/who",
        f"{world.role.role_id}:who",
    )


def test_legacy_sdk_assumes_and_uses_the_token(world: World) -> None:
    request = AssumeRoleRequest()
    request.set_RoleArn(world.role.arn)
    request.set_RoleSessionName("legacy-sdk")
    body = legacy_call(
        world.endpoint, world.alice_key.access_key_id, world.alice_key.secret, request
    )
    creds = body["Credentials"]
    identity = legacy_call(
        world.endpoint,
        creds["AccessKeyId"],
        creds["AccessKeySecret"],
        GetCallerIdentityRequest(),
        token=creds["SecurityToken"],
    )
    assert identity["Arn"].endswith(":assumed-role/ops-admin/legacy-sdk")


def test_legacy_sdk_sees_alibaba_error_codes(world: World) -> None:
    request = AssumeRoleRequest()
    request.set_RoleArn(world.role.arn)
    request.set_RoleSessionName("x")
    with pytest.raises(ServerException) as caught:
        legacy_call(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret, request)
    assert caught.value.get_error_code() == "InvalidParameter.RoleSessionName"


def test_wrong_secret_is_signature_does_not_match(world: World) -> None:
    client = sts(world.endpoint, world.alice_key.access_key_id, "wrong-secret")
    error = error_of(client.get_caller_identity)
    assert error.code == "SignatureDoesNotMatch"
    assert "server string to sign is:" in error.message


def test_legacy_sdk_wrong_secret_is_reported_without_crashing(world: World) -> None:
    with pytest.raises(ServerException) as caught:
        legacy_call(
            world.endpoint,
            world.alice_key.access_key_id,
            "wrong-secret",
            GetCallerIdentityRequest(),
        )
    assert caught.value.get_error_code() in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")


def test_unknown_access_key(world: World) -> None:
    error = error_of(sts(world.endpoint, "LTAIdoesnotexist000000", "x").get_caller_identity)
    assert (error.code, error.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_inactive_access_key(world: World) -> None:
    from iam.models import AccessKey

    key = AccessKey.objects.get(pk=world.alice_key.access_key_id)
    services.update_access_key_status(SYSTEM_ACTOR, key, "Inactive")
    assert error_of(alice_sts(world).get_caller_identity).code == "InvalidAccessKeyId.Inactive"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"duration_seconds": 899}, "InvalidParameter.DurationSeconds"),
        ({"duration_seconds": 7201}, "InvalidParameter.DurationSeconds"),
        ({"policy": "{not json"}, "InvalidParameter.PolicyGrammar"),
        (
            {
                "policy": json.dumps(
                    {
                        "Version": "1",
                        "Statement": [
                            {"Effect": "Allow", "Action": "oss:" + "G" * 2100, "Resource": "*"}
                        ],
                    }
                )
            },
            "InvalidParameter.PolicySize",
        ),
        ({"role_session_name": "a"}, "InvalidParameter.RoleSessionName"),
        ({"role_arn": "acs:ram::123:role/x"}, "InvalidParameter.RoleArn"),
    ],
)
def test_assume_role_parameter_limits(world: World, extra: dict, code: str) -> None:
    request = {"role_arn": world.role.arn, "role_session_name": "alice", **extra}
    client = alice_sts(world)
    error = error_of(lambda: client.assume_role(sts_models.AssumeRoleRequest(**request)))
    assert (error.code, error.status_code) == (code, 400)


def test_a_missing_role_of_another_account_is_answered_as_one_that_does_not_trust(
    world: World,
) -> None:
    services.update_role(
        SYSTEM_ACTOR, world.role, trust_policy=trust("acs:ram::1234567890123456:root")
    )
    missing = error_of(
        lambda: assume(alice_sts(world), f"acs:ram::{world.company_a.pk}:role/nothing-here")
    )
    untrusting = error_of(lambda: assume(alice_sts(world), world.role.arn))
    missing_detail = missing.data["AccessDeniedDetail"]
    untrusting_detail = untrusting.data["AccessDeniedDetail"]
    assert (missing.code, missing.status_code) == ("NoPermission", 403)
    assert (missing.data["Message"], missing_detail["Explanation"]) == (
        untrusting.data["Message"],
        untrusting_detail["Explanation"].replace("ops-admin", "nothing-here"),
    )


def test_a_missing_role_of_the_callers_own_account_is_not_found(world: World) -> None:
    services.attach_policy(SYSTEM_ACTOR, world.bob, system_policy("AliyunSTSAssumeRoleAccess"))
    client = sts(world.endpoint, world.bob_key.access_key_id, world.bob_key.secret)
    error = error_of(lambda: assume(client, f"acs:ram::{world.company_b.pk}:role/nothing-here"))
    assert (error.code, error.status_code) == ("EntityNotExist.Role", 404)


def test_role_names_in_arns_are_case_insensitive(world: World) -> None:
    arn = f"acs:ram::{world.company_a.pk}:role/OPS-Admin"
    assert assume(alice_sts(world), arn).credentials.access_key_id.startswith("STS.")


def test_external_id_is_required_when_the_trust_policy_says_so(world: World) -> None:
    services.update_role(
        SYSTEM_ACTOR,
        Role.objects.get(pk=world.role.pk),
        trust_policy=trust(
            f"acs:ram::{world.company_b.pk}:root",
            condition={"StringEquals": {"sts:ExternalId": "abcd1234"}},
        ),
    )
    missing = error_of(lambda: assume(alice_sts(world), world.role.arn))
    wrong = error_of(lambda: assume(alice_sts(world), world.role.arn, external_id="nope1234"))
    right = assume(alice_sts(world), world.role.arn, external_id="abcd1234")
    assert missing.code == wrong.code == "NoPermission"
    assert right.credentials.access_key_id.startswith("STS.")


def test_role_chaining_keeps_the_original_user_as_source(world: World) -> None:
    second = services.create_role(
        SYSTEM_ACTOR,
        world.company_a,
        "second-hop",
        trust_policy=trust(f"acs:ram::{world.company_a.pk}:role/ops-admin"),
    )
    services.attach_policy(
        SYSTEM_ACTOR, Role.objects.get(pk=world.role.pk), system_policy("AliyunSTSAssumeRoleAccess")
    )
    first = assume(alice_sts(world), world.role.arn, session="hop1").credentials
    hop = sts(world.endpoint, first.access_key_id, first.access_key_secret, first.security_token)
    chained = assume(hop, second.arn, session="hop2")
    session = RoleSession.objects.get(session_name="hop2")
    assert chained.credentials.access_key_id.startswith("STS.")
    assert session.source_identity == world.alice.arn
    too_long = error_of(lambda: assume(hop, second.arn, session="hop3", duration_seconds=3601))
    assert too_long.code == "InvalidParameter.DurationSeconds"


def test_unknown_action_is_not_found(world: World) -> None:
    from alibabacloud_tea_openapi.models import OpenApiRequest, Params

    client = alice_sts(world)
    params = Params(
        action="NoSuchThing",
        version="2015-04-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        body_type="json",
        req_body_type="json",
    )
    from alibabacloud_tea_util.models import RuntimeOptions

    with pytest.raises(ClientException) as caught:
        client.call_api(params, OpenApiRequest(query={}), RuntimeOptions())
    assert caught.value.code == "InvalidAction.NotFound"


def test_ram_api_denials_carry_the_missing_action(world: World) -> None:
    client = ram(world.endpoint, world.bob_key.access_key_id, world.bob_key.secret)
    error = error_of(lambda: client.list_roles(ram_models.ListRolesRequest()))
    assert (error.code, error.status_code) == ("NoPermission", 403)
    assert error.access_denied_detail["AuthAction"] == "ram:ListRoles"


def test_ram_api_paging(world: World) -> None:
    client = ram(world.endpoint, world.admin_a_key.access_key_id, world.admin_a_key.secret)
    for index in range(3):
        client.create_role(
            ram_models.CreateRoleRequest(
                role_name=f"paged-{index}",
                assume_role_policy_document=trust(f"acs:ram::{world.company_a.pk}:root"),
            )
        )
    first = client.list_roles(ram_models.ListRolesRequest(max_items=2)).body
    second = client.list_roles(ram_models.ListRolesRequest(max_items=2, marker=first.marker)).body
    names = [r.role_name for r in first.roles.role + second.roles.role]
    assert first.is_truncated is True and second.is_truncated is False
    assert names == ["ops-admin", "paged-0", "paged-1", "paged-2"]


def test_ram_errors_keep_their_codes(world: World) -> None:
    client = ram(world.endpoint, world.admin_a_key.access_key_id, world.admin_a_key.secret)
    duplicate = error_of(
        lambda: client.create_role(
            ram_models.CreateRoleRequest(
                role_name="OPS-ADMIN",
                assume_role_policy_document=trust(f"acs:ram::{world.company_a.pk}:root"),
            )
        )
    )
    conflict = error_of(
        lambda: client.delete_role(ram_models.DeleteRoleRequest(role_name="ops-admin"))
    )
    assert (duplicate.code, duplicate.status_code) == ("EntityAlreadyExists.Role", 409)
    assert (conflict.code, conflict.status_code) == ("DeleteConflict.Role.Policy", 409)


def test_another_accounts_roles_are_not_found(world: World) -> None:
    client = ram(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret)
    services.attach_policy(SYSTEM_ACTOR, world.alice, system_policy("AliyunRAMReadOnlyAccess"))
    error = error_of(lambda: client.get_role(ram_models.GetRoleRequest(role_name="ops-admin")))
    assert (error.code, error.status_code) == ("EntityNotExist.Role", 404)
