"""Every rule and error of the services: names, duplicates, limits, conflicts, isolation, audit."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.crypto import decrypt_secret
from iam.errors import ServiceError
from iam.models import AccessKey, Account, AuditEvent, Policy, PolicyAttachment, Role, User

pytestmark = pytest.mark.django_db


def trust(*principals: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": list(principals)},
                }
            ],
        }
    )


ALLOW_ECS = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


def error_code(call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value.code


# --- accounts


def test_account_id_is_16_random_digits(account_a: Account, account_b: Account) -> None:
    assert len(account_a.pk) == 16 and account_a.pk.isdigit()
    assert abs(int(account_a.pk) - int(account_b.pk)) > 1


@pytest.mark.parametrize(
    "alias",
    ["ab", "a" * 33, "Upper", "-lead", "trail-", "dou--ble", "under_score", "1234567890123456"],
)
def test_bad_alias_is_rejected(alias: str) -> None:
    code = error_code(services.create_account, SYSTEM_ACTOR, alias, email="x@y.example")
    assert code == "InvalidParameter.AccountAlias.Format"
    assert not Account.objects.exists()


def test_duplicate_alias_is_rejected(account_a: Account) -> None:
    code = error_code(services.create_account, SYSTEM_ACTOR, "company-a", email="o@a.example")
    assert code == "EntityAlreadyExists.AccountAlias"


def test_create_account_makes_a_root_identity_and_an_audit_event(account_a: Account) -> None:
    root = User.objects.get(account=account_a, kind=User.Kind.ROOT)
    assert root.arn == f"acs:ram::{account_a.pk}:root"
    assert AuditEvent.objects.filter(action="ram:CreateAccount", account_id=account_a.pk).exists()


# --- users


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "InvalidParameter.UserName.Length"),
        ("x" * 65, "InvalidParameter.UserName.Length"),
        ("bad name", "InvalidParameter.UserName.InvalidChars"),
        ("bad/name", "InvalidParameter.UserName.InvalidChars"),
    ],
)
def test_bad_user_names_are_rejected(account_a: Account, name: str, code: str) -> None:
    assert error_code(services.create_user, SYSTEM_ACTOR, account_a, name) == code
    assert not User.objects.filter(kind=User.Kind.RAM).exists()


def test_user_names_allow_dots_dashes_underscores(account_a: Account) -> None:
    user = services.create_user(SYSTEM_ACTOR, account_a, "dev.ops-team_1")
    assert user.arn == f"acs:ram::{account_a.pk}:user/dev.ops-team_1"


def test_duplicate_user_name_is_rejected_case_insensitively(account_a: Account) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "bob")
    assert error_code(services.create_user, SYSTEM_ACTOR, account_a, "BOB") == (
        "EntityAlreadyExists.User"
    )


def test_same_user_name_in_two_accounts_is_fine(account_a: Account, account_b: Account) -> None:
    services.create_user(SYSTEM_ACTOR, account_a, "bob")
    services.create_user(SYSTEM_ACTOR, account_b, "bob")
    assert User.objects.filter(name="bob").count() == 2


def test_user_limit(account_a: Account, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAM_LIMITS = {"users_per_account": 1}
    services.create_user(SYSTEM_ACTOR, account_a, "one")
    assert error_code(services.create_user, SYSTEM_ACTOR, account_a, "two") == "LimitExceeded.User"


def test_weak_password_is_rejected(user_a: User) -> None:
    code = error_code(services.set_console_password, SYSTEM_ACTOR, user_a, "short")
    assert code == "InvalidParameter.Password.TooWeak"


def test_login_profile_cannot_be_created_twice(user_a: User) -> None:
    code = error_code(
        services.set_console_password, SYSTEM_ACTOR, user_a, "Another-pass-1", create=True
    )
    assert code == "EntityAlreadyExists.User.LoginProfile"


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("access_key", "DeleteConflict.User.AccessKey"),
        ("login_profile", "DeleteConflict.User.LoginProfile"),
        ("policy", "DeleteConflict.User.Policy"),
        ("group", "DeleteConflict.User.Group"),
    ],
)
def test_user_delete_conflicts(account_a: Account, setup: str, code: str) -> None:
    user = services.create_user(SYSTEM_ACTOR, account_a, "carol")
    if setup == "access_key":
        services.create_access_key(SYSTEM_ACTOR, user)
    elif setup == "login_profile":
        services.set_console_password(SYSTEM_ACTOR, user, "Carol-pass-1", create=True)
    elif setup == "policy":
        services.attach_policy(SYSTEM_ACTOR, user, system_policy("ReadOnlyAccess"))
    else:
        group = services.create_group(SYSTEM_ACTOR, account_a, "ops")
        services.add_user_to_group(SYSTEM_ACTOR, group, user)
    assert error_code(services.delete_user, SYSTEM_ACTOR, user) == code
    assert User.objects.filter(pk=user.pk).exists()


def test_user_without_dependencies_is_deleted(account_a: Account) -> None:
    user = services.create_user(SYSTEM_ACTOR, account_a, "carol")
    services.delete_user(SYSTEM_ACTOR, user)
    assert not User.objects.filter(name="carol").exists()
    assert AuditEvent.objects.filter(action="ram:DeleteUser").exists()


# --- access keys


def test_access_key_secret_is_encrypted_at_rest(user_a: User) -> None:
    new_key = services.create_access_key(SYSTEM_ACTOR, user_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_ciphertext FROM iam_accesskey WHERE access_key_id = %s",
            [new_key.access_key.access_key_id],
        )
        (raw,) = cursor.fetchone()
    assert new_key.secret not in raw
    assert decrypt_secret(raw) == new_key.secret


def test_access_key_id_shape(user_a: User) -> None:
    new_key = services.create_access_key(SYSTEM_ACTOR, user_a)
    assert new_key.access_key.access_key_id.startswith("LTAI")
    assert len(new_key.secret) == 30


def test_at_most_two_access_keys_per_user(user_a: User) -> None:
    services.create_access_key(SYSTEM_ACTOR, user_a)
    services.create_access_key(SYSTEM_ACTOR, user_a)
    code = error_code(services.create_access_key, SYSTEM_ACTOR, user_a)
    assert code == "LimitExceeded.User.AccessKey"
    assert AccessKey.objects.filter(user=user_a).count() == 2


def test_access_key_status_must_be_active_or_inactive(user_a: User) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    assert error_code(services.update_access_key_status, SYSTEM_ACTOR, key, "Paused") == (
        "InvalidParameter.Status"
    )
    services.update_access_key_status(SYSTEM_ACTOR, key, "Inactive")
    assert AccessKey.objects.get(pk=key.pk).status == "Inactive"


def test_access_key_secret_never_reaches_the_audit_trail(user_a: User) -> None:
    new_key = services.create_access_key(SYSTEM_ACTOR, user_a)
    assert not any(
        new_key.secret in json.dumps(event.details) for event in AuditEvent.objects.all()
    )


# --- roles


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "InvalidParameter.RoleName.Length"),
        ("r" * 65, "InvalidParameter.RoleName.Length"),
        ("under_score", "InvalidParameter.RoleName.InvalidChars"),
        ("sp ace", "InvalidParameter.RoleName.InvalidChars"),
    ],
)
def test_bad_role_names_are_rejected(account_a: Account, name: str, code: str) -> None:
    trust_policy = trust(f"acs:ram::{account_a.pk}:root")
    assert (
        error_code(services.create_role, SYSTEM_ACTOR, account_a, name, trust_policy=trust_policy)
        == code
    )
    assert not Role.objects.exists()


def test_role_arn_uses_the_lower_cased_name(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ECS-Admin", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    assert role.arn == f"acs:ram::{account_a.pk}:role/ecs-admin"
    assert role.role_id.isdigit()


def test_duplicate_role_name_is_rejected_case_insensitively(account_a: Account) -> None:
    trust_policy = trust(f"acs:ram::{account_a.pk}:root")
    services.create_role(SYSTEM_ACTOR, account_a, "devops", trust_policy=trust_policy)
    assert (
        error_code(
            services.create_role, SYSTEM_ACTOR, account_a, "DevOps", trust_policy=trust_policy
        )
        == "EntityAlreadyExists.Role"
    )


def test_same_role_name_in_two_accounts_is_fine(account_a: Account, account_b: Account) -> None:
    services.create_role(
        SYSTEM_ACTOR, account_a, "devops", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    services.create_role(
        SYSTEM_ACTOR, account_b, "devops", trust_policy=trust(f"acs:ram::{account_b.pk}:root")
    )
    assert Role.objects.filter(name="devops").count() == 2


@pytest.mark.parametrize("duration", [3599, 43201, "abc", -1])
def test_max_session_duration_bounds(account_a: Account, duration: object) -> None:
    code = error_code(
        services.create_role,
        SYSTEM_ACTOR,
        account_a,
        "r1",
        trust_policy=trust(f"acs:ram::{account_a.pk}:root"),
        max_session_duration=duration,
    )
    assert code == "InvalidParameter.MaxSessionDuration"


def test_description_length(account_a: Account) -> None:
    code = error_code(
        services.create_role,
        SYSTEM_ACTOR,
        account_a,
        "r1",
        trust_policy=trust(f"acs:ram::{account_a.pk}:root"),
        description="d" * 1025,
    )
    assert code == "InvalidParameter.Description.Length"


def test_malformed_trust_policy_is_rejected(account_a: Account) -> None:
    code = error_code(
        services.create_role,
        SYSTEM_ACTOR,
        account_a,
        "r1",
        trust_policy='{"Version": "1", "Statement": [{"Effect": "Maybe"}]}',
    )
    assert code == "MalformedPolicyDocument"


def test_trust_policy_naming_a_missing_user_is_rejected(account_a: Account) -> None:
    code = error_code(
        services.create_role,
        SYSTEM_ACTOR,
        account_a,
        "r1",
        trust_policy=trust(f"acs:ram::{account_a.pk}:user/nobody"),
    )
    assert code == "MalformedPolicyDocument"


def test_trust_policy_may_name_an_account_not_hosted_here(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "r1", trust_policy=trust("acs:ram::9999999999999999:user/anyone")
    )
    assert role.pk


def test_role_limit(account_a: Account, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IAM_LIMITS = {"roles_per_account": 1}
    trust_policy = trust(f"acs:ram::{account_a.pk}:root")
    services.create_role(SYSTEM_ACTOR, account_a, "r1", trust_policy=trust_policy)
    assert (
        error_code(services.create_role, SYSTEM_ACTOR, account_a, "r2", trust_policy=trust_policy)
        == "LimitExceeded.Role"
    )


def test_role_with_policies_cannot_be_deleted(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "r1", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    services.attach_policy(SYSTEM_ACTOR, role, system_policy("ReadOnlyAccess"))
    assert error_code(services.delete_role, SYSTEM_ACTOR, role) == "DeleteConflict.Role.Policy"
    assert Role.objects.filter(pk=role.pk).exists()


def test_update_role_trust_bumps_the_trust_revision_and_audits_a_diff(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "r1", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    services.update_role(SYSTEM_ACTOR, role, trust_policy=trust("acs:ram::9999999999999999:root"))
    event = AuditEvent.objects.filter(action="ram:UpdateRole").get()
    assert Role.objects.get(pk=role.pk).trust_revision == 2
    assert "9999999999999999" in event.details["after"]["AssumeRolePolicyDocument"]
    assert account_a.pk in event.details["before"]["AssumeRolePolicyDocument"]


def test_failed_update_changes_nothing(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "r1", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    error_code(services.update_role, SYSTEM_ACTOR, role, description="ok", max_session_duration=99)
    assert Role.objects.get(pk=role.pk).description == ""
    assert not AuditEvent.objects.filter(action="ram:UpdateRole").exists()


# --- policies and attachments


def test_system_policies_exist() -> None:
    names = set(Policy.objects.filter(account__isnull=True).values_list("name", flat=True))
    assert {
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AliyunRAMFullAccess",
        "AliyunRAMReadOnlyAccess",
        "AliyunSTSAssumeRoleAccess",
        "AliyunOSSFullAccess",
        "AliyunOSSReadOnlyAccess",
        "AliyunECSFullAccess",
        "AliyunECSReadOnlyAccess",
    } <= names


def test_assume_role_access_document_matches_the_spec() -> None:
    document = json.loads(system_policy("AliyunSTSAssumeRoleAccess").versions.get().document)
    assert document["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "InvalidParameter.PolicyName.Length"),
        ("p" * 129, "InvalidParameter.PolicyName.Length"),
        ("bad.name", "InvalidParameter.PolicyName.InvalidChars"),
    ],
)
def test_bad_policy_names(account_a: Account, name: str, code: str) -> None:
    assert (
        error_code(services.create_policy, SYSTEM_ACTOR, account_a, name, document=ALLOW_ECS)
        == code
    )


def test_policy_document_length(account_a: Account) -> None:
    document = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "ecs:Describe" + "x" * 6200, "Resource": "*"}
            ],
        }
    )
    assert (
        error_code(services.create_policy, SYSTEM_ACTOR, account_a, "big", document=document)
        == "InvalidParameter.PolicyDocument.Length"
    )


def test_duplicate_custom_policy(account_a: Account) -> None:
    services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    assert (
        error_code(services.create_policy, SYSTEM_ACTOR, account_a, "ecsall", document=ALLOW_ECS)
        == "EntityAlreadyExists.Policy"
    )


def test_policy_versions_are_capped_at_five(account_a: Account) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    for _ in range(4):
        services.create_policy_version(SYSTEM_ACTOR, policy, document=ALLOW_ECS)
    assert (
        error_code(services.create_policy_version, SYSTEM_ACTOR, policy, document=ALLOW_ECS)
        == "LimitExceeded.Policy.Version"
    )


def test_rotate_strategy_deletes_the_oldest_non_default_version(account_a: Account) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    for _ in range(4):
        services.create_policy_version(SYSTEM_ACTOR, policy, document=ALLOW_ECS)
    services.create_policy_version(
        SYSTEM_ACTOR,
        policy,
        document=ALLOW_ECS,
        rotate_strategy="DeleteOldestNonDefaultVersionWhenLimitExceeded",
    )
    assert sorted(policy.versions.values_list("version_id", flat=True)) == [
        "v1",
        "v3",
        "v4",
        "v5",
        "v6",
    ]


def test_default_version_cannot_be_deleted(account_a: Account) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    assert error_code(services.delete_policy_version, SYSTEM_ACTOR, policy, "v1") == (
        "DeleteConflict.Policy.Version.Default"
    )


def test_system_policies_cannot_be_changed() -> None:
    assert error_code(
        services.create_policy_version,
        SYSTEM_ACTOR,
        system_policy("ReadOnlyAccess"),
        document=ALLOW_ECS,
    ) == ("InvalidParameter.PolicyType")


def test_attached_policy_cannot_be_deleted(account_a: Account, user_a: User) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    services.attach_policy(SYSTEM_ACTOR, user_a, policy)
    assert error_code(services.delete_policy, SYSTEM_ACTOR, policy) == (
        "DeleteConflict.Policy.User"
    )


def test_attaching_twice_is_rejected(user_a: User) -> None:
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("ReadOnlyAccess"))
    assert (
        error_code(services.attach_policy, SYSTEM_ACTOR, user_a, system_policy("ReadOnlyAccess"))
        == "EntityAlreadyExists.User.Policy"
    )


def test_detaching_what_is_not_attached(account_a: Account) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "r1", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
    )
    assert (
        error_code(services.detach_policy, SYSTEM_ACTOR, role, system_policy("ReadOnlyAccess"))
        == "EntityNotExist.Role.Policy"
    )


def test_custom_policy_of_another_account_cannot_be_attached(
    account_a: Account, account_b: Account
) -> None:
    policy = services.create_policy(SYSTEM_ACTOR, account_a, "EcsAll", document=ALLOW_ECS)
    stranger = services.create_user(SYSTEM_ACTOR, account_b, "eve")
    assert error_code(services.attach_policy, SYSTEM_ACTOR, stranger, policy) == (
        "EntityNotExist.Policy"
    )


def test_custom_policies_per_principal_are_capped(account_a: Account, user_a: User) -> None:
    for index in range(5):
        policy = services.create_policy(SYSTEM_ACTOR, account_a, f"P{index}", document=ALLOW_ECS)
        services.attach_policy(SYSTEM_ACTOR, user_a, policy)
    sixth = services.create_policy(SYSTEM_ACTOR, account_a, "P6", document=ALLOW_ECS)
    assert error_code(services.attach_policy, SYSTEM_ACTOR, user_a, sixth) == (
        "LimitExceeded.User.Policy"
    )


def test_attach_policies_is_one_transaction(account_a: Account, user_a: User) -> None:
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("ReadOnlyAccess"))
    with pytest.raises(ServiceError):
        services.attach_policies(
            SYSTEM_ACTOR,
            user_a,
            [system_policy("AliyunOSSFullAccess"), system_policy("ReadOnlyAccess")],
        )
    assert PolicyAttachment.objects.filter(user=user_a).count() == 1


def test_attach_bumps_the_account_revision(account_a: Account, user_a: User) -> None:
    before = Account.objects.get(pk=account_a.pk).version
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("ReadOnlyAccess"))
    assert Account.objects.get(pk=account_a.pk).version > before


# --- groups


def test_group_with_members_cannot_be_deleted(account_a: Account, user_a: User) -> None:
    group = services.create_group(SYSTEM_ACTOR, account_a, "ops")
    services.add_user_to_group(SYSTEM_ACTOR, group, user_a)
    assert error_code(services.delete_group, SYSTEM_ACTOR, group) == "DeleteConflict.Group.User"


def test_user_of_another_account_cannot_join_a_group(account_a: Account, user_b: User) -> None:
    group = services.create_group(SYSTEM_ACTOR, account_a, "ops")
    assert error_code(services.add_user_to_group, SYSTEM_ACTOR, group, user_b) == (
        "EntityNotExist.User"
    )


def test_duplicate_group_name(account_a: Account) -> None:
    services.create_group(SYSTEM_ACTOR, account_a, "ops")
    assert error_code(services.create_group, SYSTEM_ACTOR, account_a, "OPS") == (
        "EntityAlreadyExists.Group"
    )


# --- services (principals)


def test_service_registration_gives_an_access_key() -> None:
    service, new_key = services.create_service(SYSTEM_ACTOR, "oss.example.internal")
    assert new_key.access_key.service == service
    assert error_code(services.create_service, SYSTEM_ACTOR, "oss.example.internal") == (
        "EntityAlreadyExists.Service"
    )


def test_bad_service_name() -> None:
    assert error_code(services.create_service, SYSTEM_ACTOR, "Bad Name") == (
        "InvalidParameter.ServiceName"
    )


# --- audit trail


def test_audit_events_cannot_be_changed_or_deleted(account_a: Account) -> None:
    event = AuditEvent.objects.first()
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="forged")
