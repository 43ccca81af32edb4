"""The only code that creates or changes IAM objects.

Every public function here is one transaction: it validates its input against the rules and
limits of Alibaba Cloud RAM (raising ``ServiceError`` subclasses that carry the Alibaba error code),
makes the change, and appends one audit event. A call that raises changes nothing.

Authorization is not done here: the front doors (console views, RAM API, STS API) ask the one
authorizer first, as the effective identity, and then call one service.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from iam import arns, errors, security, versions
from iam.audit import Actor, record
from iam.crypto import encrypt_secret
from iam.models import (
    AccessKey,
    Account,
    Group,
    GroupMembership,
    Policy,
    PolicyAttachment,
    PolicyVersion,
    Role,
    Service,
    User,
)
from iam.policy import PolicyError, parse_policy

ALIAS_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]\Z")
USER_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")
ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9.-]+\Z")
GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9-]+\Z")
SERVICE_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\Z")
BASE62 = string.ascii_letters + string.digits

MIN_ROLE_SESSION = 3600
MAX_ROLE_SESSION = 43200
MAX_POLICY_VERSIONS = 5

DEFAULT_LIMITS = {
    "roles_per_account": 1000,
    "users_per_account": 1000,
    "groups_per_account": 300,
    "custom_policies_per_account": 1500,
    "access_keys_per_user": 2,
    "system_policies_per_principal": 20,
    "custom_policies_per_principal": 5,
}


def limit(name: str) -> int:
    return {**DEFAULT_LIMITS, **getattr(settings, "IAM_LIMITS", {})}[name]


def random_token(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


# --- validation helpers -------------------------------------------------------------------------


def check_name(value: str, parameter: str, pattern: re.Pattern[str], max_length: int) -> str:
    field = parameter_to_field(parameter)
    if not value or len(value) > max_length:
        raise errors.beyond_length(parameter, field, limit=max_length, empty=not value)
    if not pattern.match(value):
        raise errors.invalid_chars(parameter, field, allowed=pattern)
    return value


def check_length(value: str, parameter: str, max_length: int) -> str:
    if len(value) > max_length:
        raise errors.beyond_length(parameter, parameter_to_field(parameter), limit=max_length)
    return value


def parameter_to_field(parameter: str) -> str:
    """``RoleName`` -> ``role_name``: the console form field an API parameter maps to."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", parameter).lower()


def check_alias(alias: str) -> str:
    if not 3 <= len(alias) <= 32 or not ALIAS_RE.match(alias) or alias.isdigit():
        raise errors.InvalidParameter(
            "InvalidParameter.AccountAlias.Format",
            "The account alias must be 3-32 characters of lower-case letters, digits and single "
            "hyphens, must not start or end with a hyphen and must not be all digits.",
            field="alias",
            plain=gettext(
                "Use 3 to 32 lower-case letters, digits and single hyphens (-), not only digits, "
                "with no hyphen at the start or end."
            ),
        )
    return alias


def check_max_session_duration(seconds: int | str | None, parameter: str) -> int:
    try:
        value = int(seconds) if seconds not in (None, "") else 3600  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = -1
    if not MIN_ROLE_SESSION <= value <= MAX_ROLE_SESSION:
        raise errors.InvalidParameter(
            f"InvalidParameter.{parameter}",
            f'The parameter - "{parameter}" must be an integer from 3600 to 43200.',
            field="max_session_duration",
        )
    return value


def check_document(
    document: str | dict[str, Any], *, kind: str, parameter: str, field: str | None = None
) -> str:
    """Validate a policy document and return it as text (as given, so line numbers stay)."""
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    if len(text) > 6144:
        raise errors.beyond_length(parameter, field, limit=6144)
    try:
        parse_policy(text, kind=kind)
    except PolicyError as error:
        raise errors.InvalidParameter(
            "MalformedPolicyDocument", error.message, field=field or "document"
        ) from error
    return text


def check_trust_principals(text: str, field: str, account_id: str) -> None:
    """A trust policy may only name users and roles of its own account that exist. Names of
    another account are taken as written: whether they exist is that account's business, and
    checking would tell any tenant which users and roles another tenant has."""
    document = json.loads(text)
    for index, statement in enumerate(document.get("Statement", [])):
        principals = statement.get("Principal", {}).get("RAM", [])
        for arn in [principals] if isinstance(principals, str) else principals:
            named = arns.parse_principal(arn)
            if named is None or named.kind == arns.ROOT or named.account_id != account_id:
                continue
            model = User if named.kind == arns.USER else Role
            lookup = {"account_id": account_id, "name__iexact": named.name}
            if named.kind == arns.USER:
                lookup["kind"] = User.Kind.RAM
            if not model.objects.filter(**lookup).exists():
                raise errors.InvalidParameter(
                    "MalformedPolicyDocument",
                    f"Statement[{index}].Principal.RAM: {named.kind} {arn} does not exist.",
                    field=field,
                    plain=gettext(
                        "Statement %(number)s trusts %(arn)s, which does not exist in this account."
                    )
                    % {"number": index + 1, "arn": arn},
                )


# --- accounts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccessKey:
    access_key: AccessKey
    secret: str


@transaction.atomic
def create_account(
    actor: Actor,
    alias: str,
    *,
    email: str,
    password: str | None = None,
    display_name: str = "",
) -> Account:
    check_alias(alias)
    email = email.strip()
    if "@" not in email or len(email) > 254:
        raise errors.InvalidParameter(
            "InvalidParameter.Email",
            "The email address is not valid.",
            field="email",
            plain=gettext("Enter a valid email address."),
        )
    if Account.objects.filter(alias=alias).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.AccountAlias", f"The account alias {alias} is already in use."
        )
    if User.objects.filter(logon_key=User.logon_key_for(User.Kind.ROOT, "", email=email)).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Email", "An account with this email already exists.", field="email"
        )
    account = Account.objects.create(alias=alias, display_name=display_name or alias)
    root = User(
        account=account,
        kind=User.Kind.ROOT,
        email=email,
        display_name=display_name or alias,
        logon_key=User.logon_key_for(User.Kind.ROOT, account.pk, email=email),
    )
    if password:
        security.check_password(account, password, root)
    root.set_unusable_password()
    root.save()
    if password:
        security.save_password(root, password)
    record(
        actor,
        "ram:CreateAccount",
        account.root_arn,
        account_id=account.pk,
        details={"alias": alias},
    )
    return account


@transaction.atomic
def set_account_alias(actor: Actor, account: Account, alias: str) -> Account:
    check_alias(alias)
    if Account.objects.filter(alias=alias).exclude(pk=account.pk).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.AccountAlias", f"The account alias {alias} is already in use."
        )
    before = account.alias
    account.alias = alias
    account.save(update_fields=["alias"])
    versions.bump(account.pk)
    record(
        actor,
        "ram:SetAccountAlias",
        account.root_arn,
        account_id=account.pk,
        details={"before": {"alias": before}, "after": {"alias": alias}},
    )
    return account


# --- RAM users ----------------------------------------------------------------------------------


@transaction.atomic
def create_user(
    actor: Actor,
    account: Account,
    name: str,
    *,
    display_name: str = "",
    email: str = "",
    mobile_phone: str = "",
    comments: str = "",
) -> User:
    check_name(name, "UserName", USER_NAME_RE, 64)
    check_length(display_name, "DisplayName", 128)
    check_length(email, "Email", User._meta.get_field("email").max_length)
    check_length(mobile_phone, "MobilePhone", User._meta.get_field("mobile_phone").max_length)
    check_length(comments, "Comments", 128)
    if User.objects.filter(account=account, kind=User.Kind.RAM).count() >= limit(
        "users_per_account"
    ):
        raise errors.LimitExceeded(
            "LimitExceeded.User", "The count of users beyond the current limits."
        )
    if User.objects.filter(account=account, kind=User.Kind.RAM, name__iexact=name).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.User", "The user does already EXIST.", field="user_name"
        )
    user = User(
        account=account,
        kind=User.Kind.RAM,
        name=name,
        display_name=display_name or name,
        email=email,
        mobile_phone=mobile_phone,
        comments=comments,
        logon_key=User.logon_key_for(User.Kind.RAM, account.pk, name=name),
    )
    user.set_unusable_password()
    user.save()
    record(
        actor,
        "ram:CreateUser",
        user.arn,
        account_id=account.pk,
        details={"after": user_snapshot(user)},
    )
    return user


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "DisplayName": user.display_name,
        "Email": user.email,
        "Comments": user.comments,
        "Active": user.is_active,
    }


@transaction.atomic
def update_user(
    actor: Actor,
    user: User,
    *,
    new_name: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    comments: str | None = None,
    is_active: bool | None = None,
) -> User:
    before = user_snapshot(user)
    if new_name is not None and new_name != user.name:
        check_name(new_name, "NewUserName", USER_NAME_RE, 64)
        taken = User.objects.filter(
            account_id=user.account_id, kind=User.Kind.RAM, name__iexact=new_name
        ).exclude(pk=user.pk)
        if taken.exists():
            raise errors.EntityAlreadyExists(
                "EntityAlreadyExists.User", "The user does already EXIST.", field="new_user_name"
            )
        user.name = new_name
        user.logon_key = User.logon_key_for(User.Kind.RAM, user.account_id, name=new_name)
    if display_name is not None:
        user.display_name = check_length(display_name, "NewDisplayName", 128) or user.name
    if email is not None:
        user.email = email
    if comments is not None:
        user.comments = check_length(comments, "NewComments", 128)
    if is_active is not None:
        user.is_active = is_active
    user.save()
    versions.bump(user.account_id)
    record(
        actor,
        "ram:UpdateUser",
        user.arn,
        account_id=user.account_id,
        details={"before": before, "after": user_snapshot(user)},
    )
    return user


@transaction.atomic
def delete_user(actor: Actor, user: User) -> None:
    if user.is_root:
        raise errors.InvalidParameter(
            "InvalidParameter.UserName",
            "The root identity cannot be deleted.",
            plain=gettext("The root identity cannot be deleted."),
        )
    conflicts = [
        (user.access_keys.exists(), "AccessKey", "access key"),
        (user.has_usable_password(), "LoginProfile", "login profile"),
        (user.attachments.exists(), "Policy", "attached policy"),
        (user.group_memberships.exists(), "Group", "group"),
    ]
    for present, suffix, words in conflicts:
        if present:
            raise errors.DeleteConflict(
                f"DeleteConflict.User.{suffix}",
                f"The user CAN NOT has any {words} while deleting the user.",
            )
    arn = user.arn
    account_id = user.account_id
    snapshot = user_snapshot(user)
    user.delete()
    versions.bump(account_id)
    record(actor, "ram:DeleteUser", arn, account_id=account_id, details={"before": snapshot})


@transaction.atomic
def set_console_password(
    actor: Actor,
    user: User,
    password: str,
    *,
    password_reset_required: bool = False,
    mfa_bind_required: bool = False,
    create: bool = False,
) -> User:
    """CreateLoginProfile (``create=True``) or UpdateLoginProfile for a RAM user: the password
    must satisfy the account's password policy (``iam.security``), and is remembered for its
    reuse prevention and maximum age."""
    if user.is_root:
        raise errors.InvalidParameter(
            "InvalidParameter.UserName",
            "Use the root identity's own settings to change its password.",
            plain=gettext("Use the root identity's own settings to change its password."),
        )
    if create and user.has_usable_password():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.User.LoginProfile", "The login profile does already EXIST."
        )
    if not create and not user.has_usable_password():
        raise errors.EntityNotExist(
            "EntityNotExist.User.LoginProfile", "The login profile does not exist."
        )
    security.check_password(user.account, password, user)
    user.password_reset_required = password_reset_required
    user.mfa_bind_required = mfa_bind_required
    if create:
        user.login_profile_created = timezone.now()
    security.save_password(user, password)
    action = "ram:CreateLoginProfile" if create else "ram:UpdateLoginProfile"
    record(
        actor,
        action,
        user.arn,
        account_id=user.account_id,
        details={"PasswordResetRequired": password_reset_required},
    )
    return user


@transaction.atomic
def delete_login_profile(actor: Actor, user: User) -> None:
    if not user.has_usable_password() or user.is_root:
        raise errors.EntityNotExist(
            "EntityNotExist.User.LoginProfile", "The login profile does not exist."
        )
    user.set_unusable_password()
    user.login_profile_created = None
    user.save()
    record(actor, "ram:DeleteLoginProfile", user.arn, account_id=user.account_id)


# --- access keys --------------------------------------------------------------------------------


def new_access_key_id() -> str:
    return "LTAI" + random_token(20)


def issue_access_key(*, user: User | None = None, service: Service | None = None) -> NewAccessKey:
    secret = random_token(30)
    access_key = AccessKey.objects.create(
        access_key_id=new_access_key_id(),
        user=user,
        service=service,
        secret_ciphertext=encrypt_secret(secret),
    )
    return NewAccessKey(access_key, secret)


def set_console_language(user: User, language: str) -> None:
    """The language the console speaks to ``user`` (a preference, not a permission: not audited)."""
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


@transaction.atomic
def create_access_key(actor: Actor, user: User) -> NewAccessKey:
    """Create an access key; the secret is returned here once and never again."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    if user.access_keys.count() >= limit("access_keys_per_user"):
        raise errors.LimitExceeded(
            "LimitExceeded.User.AccessKey",
            "The count of access keys of the user beyond the current limits.",
        )
    new_key = issue_access_key(user=user)
    record(
        actor,
        "ram:CreateAccessKey",
        user.arn,
        account_id=user.account_id,
        details={"AccessKeyId": new_key.access_key.access_key_id},
    )
    return new_key


@transaction.atomic
def update_access_key_status(actor: Actor, access_key: AccessKey, status: str) -> AccessKey:
    if status not in AccessKey.Status.values:
        raise errors.InvalidParameter(
            "InvalidParameter.Status",
            'The parameter - "Status" must be Active or Inactive.',
            plain=gettext("Choose Active or Inactive."),
        )
    before = access_key.status
    access_key.status = status
    access_key.save(update_fields=["status"])
    owner_arn, account_id = access_key_owner(access_key)
    versions.bump(account_id)
    record(
        actor,
        "ram:UpdateAccessKey",
        owner_arn,
        account_id=account_id,
        details={
            "AccessKeyId": access_key.access_key_id,
            "before": {"Status": before},
            "after": {"Status": status},
        },
    )
    return access_key


@transaction.atomic
def delete_access_key(actor: Actor, access_key: AccessKey) -> None:
    owner_arn, account_id = access_key_owner(access_key)
    key_id = access_key.access_key_id
    access_key.delete()
    versions.bump(account_id)
    record(
        actor,
        "ram:DeleteAccessKey",
        owner_arn,
        account_id=account_id,
        details={"AccessKeyId": key_id},
    )


def access_key_owner(access_key: AccessKey) -> tuple[str, str]:
    if access_key.user_id:
        return access_key.user.arn, access_key.user.account_id
    return access_key.service.arn, ""


# --- groups -------------------------------------------------------------------------------------


@transaction.atomic
def create_group(actor: Actor, account: Account, name: str, *, comments: str = "") -> Group:
    check_name(name, "GroupName", GROUP_NAME_RE, 64)
    check_length(comments, "Comments", 128)
    if Group.objects.filter(account=account).count() >= limit("groups_per_account"):
        raise errors.LimitExceeded(
            "LimitExceeded.Group", "The count of groups beyond the current limits."
        )
    if Group.objects.filter(account=account, name__iexact=name).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Group", "The group does already EXIST.", field="group_name"
        )
    group = Group.objects.create(account=account, name=name, comments=comments)
    record(
        actor,
        "ram:CreateGroup",
        group.arn,
        account_id=account.pk,
        details={"after": {"GroupName": name, "Comments": comments}},
    )
    return group


@transaction.atomic
def update_group(
    actor: Actor, group: Group, *, new_name: str | None = None, comments: str | None = None
) -> Group:
    before = {"GroupName": group.name, "Comments": group.comments}
    if new_name is not None and new_name != group.name:
        check_name(new_name, "NewGroupName", GROUP_NAME_RE, 64)
        if (
            Group.objects.filter(account_id=group.account_id, name__iexact=new_name)
            .exclude(pk=group.pk)
            .exists()
        ):
            raise errors.EntityAlreadyExists(
                "EntityAlreadyExists.Group", "The group does already EXIST.", field="new_group_name"
            )
        group.name = new_name
    if comments is not None:
        group.comments = check_length(comments, "NewComments", 128)
    group.save()
    record(
        actor,
        "ram:UpdateGroup",
        group.arn,
        account_id=group.account_id,
        details={"before": before, "after": {"GroupName": group.name, "Comments": group.comments}},
    )
    return group


@transaction.atomic
def delete_group(actor: Actor, group: Group) -> None:
    if group.members.exists():
        raise errors.DeleteConflict(
            "DeleteConflict.Group.User", "The group CAN NOT has any user while deleting the group."
        )
    if group.attachments.exists():
        raise errors.DeleteConflict(
            "DeleteConflict.Group.Policy",
            "The group CAN NOT has any attached policy while deleting the group.",
        )
    arn, account_id = group.arn, group.account_id
    group.delete()
    versions.bump(account_id)  # a membership added since the checks above goes with it
    record(actor, "ram:DeleteGroup", arn, account_id=account_id)


@transaction.atomic
def add_user_to_group(actor: Actor, group: Group, user: User) -> None:
    if user.account_id != group.account_id or user.is_root:
        raise errors.EntityNotExist("EntityNotExist.User", "The user does not exist.")
    try:
        with transaction.atomic():
            GroupMembership.objects.create(group=group, user=user)
    except IntegrityError:
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.User.Group", "The user has already been in the group."
        ) from None
    versions.bump(group.account_id)
    record(
        actor,
        "ram:AddUserToGroup",
        group.arn,
        account_id=group.account_id,
        details={"UserName": user.name},
    )


@transaction.atomic
def add_users_to_group(actor: Actor, group: Group, users: Iterable[User]) -> None:
    """AddUserToGroup for each user, all or none: one audit event per membership."""
    for user in users:
        add_user_to_group(actor, group, user)


@transaction.atomic
def remove_user_from_group(actor: Actor, group: Group, user: User) -> None:
    deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
    if not deleted:
        raise errors.EntityNotExist(
            "EntityNotExist.User.Group", "The user is not a member of the group."
        )
    versions.bump(group.account_id)
    record(
        actor,
        "ram:RemoveUserFromGroup",
        group.arn,
        account_id=group.account_id,
        details={"UserName": user.name},
    )


# --- roles --------------------------------------------------------------------------------------


def role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "RoleName": role.name,
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
        "AssumeRolePolicyDocument": role.trust_policy,
    }


@transaction.atomic
def create_role(
    actor: Actor,
    account: Account,
    name: str,
    *,
    trust_policy: str | dict[str, Any],
    description: str = "",
    max_session_duration: int | str | None = 3600,
) -> Role:
    check_name(name, "RoleName", ROLE_NAME_RE, 64)
    check_length(description, "Description", 1024)
    duration = check_max_session_duration(max_session_duration, "MaxSessionDuration")
    if not trust_policy:
        raise errors.InvalidParameter(
            "MissingAssumeRolePolicyDocument",
            "AssumeRolePolicyDocument is mandatory for this action.",
            field="trust_policy",
        )
    text = check_document(
        trust_policy, kind="trust", parameter="AssumeRolePolicyDocument", field="trust_policy"
    )
    check_trust_principals(text, "trust_policy", account.pk)
    Account.objects.select_for_update().filter(pk=account.pk).first()
    if Role.objects.filter(account=account).count() >= limit("roles_per_account"):
        raise errors.LimitExceeded(
            "LimitExceeded.Role", "The count of roles beyond the current limits."
        )
    if Role.objects.filter(account=account, name__iexact=name).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Role", "The role does already EXIST.", field="role_name"
        )
    role = Role.objects.create(
        account=account,
        name=name,
        description=description,
        trust_policy=text,
        max_session_duration=duration,
    )
    versions.bump(account.pk)
    record(
        actor,
        "ram:CreateRole",
        role.arn,
        account_id=account.pk,
        details={"after": role_snapshot(role)},
    )
    return role


@transaction.atomic
def update_role(
    actor: Actor,
    role: Role,
    *,
    trust_policy: str | dict[str, Any] | None = None,
    description: str | None = None,
    max_session_duration: int | str | None = None,
) -> Role:
    before = role_snapshot(role)
    if trust_policy is not None:
        text = check_document(
            trust_policy,
            kind="trust",
            parameter="NewAssumeRolePolicyDocument",
            field="trust_policy",
        )
        check_trust_principals(text, "trust_policy", role.account_id)
        if text != role.trust_policy:
            role.trust_policy = text
            role.trust_revision += 1
    if description is not None:
        role.description = check_length(description, "NewDescription", 1024)
    if max_session_duration is not None:
        role.max_session_duration = check_max_session_duration(
            max_session_duration, "NewMaxSessionDuration"
        )
    role.save()
    versions.bump(role.account_id)
    record(
        actor,
        "ram:UpdateRole",
        role.arn,
        account_id=role.account_id,
        details={"before": before, "after": role_snapshot(role)},
    )
    return role


@transaction.atomic
def delete_role(actor: Actor, role: Role) -> None:
    if role.attachments.exists():
        raise errors.DeleteConflict(
            "DeleteConflict.Role.Policy",
            "The role CAN NOT has any attached policy while deleting the role.",
        )
    arn, account_id, snapshot = role.arn, role.account_id, role_snapshot(role)
    role.delete()
    versions.bump(account_id)
    record(actor, "ram:DeleteRole", arn, account_id=account_id, details={"before": snapshot})


@transaction.atomic
def revoke_role_sessions(actor: Actor, role: Role, *, at: datetime | None = None) -> Role:
    """Reject every token and console session of the role issued before now."""
    role.sessions_revoked_before = at or timezone.now()
    role.save(update_fields=["sessions_revoked_before", "updated"])
    versions.bump(role.account_id)
    record(
        actor,
        "ram:RevokeRoleSessions",
        role.arn,
        account_id=role.account_id,
        details={"RevokedBefore": role.sessions_revoked_before.isoformat()},
    )
    return role


@transaction.atomic
def revoke_role_session(actor: Actor, session: Any) -> bool:
    """Reject one session's token (and its console switch) from its next request; False when it
    was revoked already. ``session`` is an ``sts.models.RoleSession`` of a role that exists."""
    revoked = type(session).objects.filter(pk=session.pk, revoked_at__isnull=True)
    if not revoked.update(revoked_at=timezone.now(), revoked_reason="revoked by an administrator"):
        return False
    versions.bump(session.role.account_id)
    record(
        actor,
        "ram:RevokeRoleSession",
        session.role.arn,
        account_id=session.role.account_id,
        details={
            "SessionId": session.pk,
            "RoleSessionName": session.session_name,
            "SourceIdentity": session.source_identity,
        },
    )
    return True


# --- policies -----------------------------------------------------------------------------------


@transaction.atomic
def create_policy(
    actor: Actor,
    account: Account,
    name: str,
    *,
    document: str | dict[str, Any],
    description: str = "",
) -> Policy:
    check_name(name, "PolicyName", POLICY_NAME_RE, 128)
    check_length(description, "Description", 1024)
    text = check_document(document, kind="permission", parameter="PolicyDocument")
    if Policy.objects.filter(account=account).count() >= limit("custom_policies_per_account"):
        raise errors.LimitExceeded(
            "LimitExceeded.Policy", "The count of policies beyond the current limits."
        )
    if Policy.objects.filter(account=account, name__iexact=name).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Policy", "The policy does already EXIST.", field="policy_name"
        )
    policy = Policy.objects.create(
        account=account, name=name, policy_type=Policy.Type.CUSTOM, description=description
    )
    PolicyVersion.objects.create(policy=policy, version_id="v1", document=text)
    record(
        actor,
        "ram:CreatePolicy",
        policy.arn_for(account.pk),
        account_id=account.pk,
        details={"after": {"PolicyName": name, "Description": description, "PolicyDocument": text}},
    )
    return policy


@transaction.atomic
def update_policy_description(actor: Actor, policy: Policy, description: str) -> Policy:
    require_custom(policy)
    before = policy.description
    policy.description = check_length(description, "NewDescription", 1024)
    policy.save(update_fields=["description", "updated"])
    record(
        actor,
        "ram:UpdatePolicyDescription",
        policy.arn_for(policy.account_id),
        account_id=policy.account_id,
        details={"before": {"Description": before}, "after": {"Description": description}},
    )
    return policy


def require_custom(policy: Policy) -> None:
    if policy.is_system:
        raise errors.InvalidParameter(
            "InvalidParameter.PolicyType",
            "System policies cannot be changed.",
            plain=gettext("System policies cannot be changed."),
        )


@transaction.atomic
def create_policy_version(
    actor: Actor,
    policy: Policy,
    *,
    document: str | dict[str, Any],
    set_as_default: bool = False,
    rotate_strategy: str = "None",
) -> PolicyVersion:
    require_custom(policy)
    if rotate_strategy not in ("None", "DeleteOldestNonDefaultVersionWhenLimitExceeded"):
        raise errors.InvalidParameter(
            "InvalidParameter.RotateStrategy",
            'The parameter - "RotateStrategy" is invalid.',
            plain=gettext("Choose what happens when the policy has as many versions as it may."),
        )
    text = check_document(document, kind="permission", parameter="PolicyDocument")
    Policy.objects.select_for_update().filter(pk=policy.pk).first()
    before_default = policy.default_version
    existing = list(policy.versions.order_by("created", "id"))
    if len(existing) >= MAX_POLICY_VERSIONS:
        if rotate_strategy == "None":
            raise errors.LimitExceeded(
                "LimitExceeded.Policy.Version",
                "The count of versions of the policy beyond the current limits.",
            )
        oldest = next(v for v in existing if v.version_id != policy.default_version)
        oldest.delete()
    version_id = f"v{policy.next_version_number}"
    version = PolicyVersion.objects.create(policy=policy, version_id=version_id, document=text)
    policy.next_version_number += 1
    if set_as_default:
        policy.default_version = version_id
    policy.save(update_fields=["next_version_number", "default_version", "updated"])
    if set_as_default:
        versions.bump(policy.account_id)
    record(
        actor,
        "ram:CreatePolicyVersion",
        policy.arn_for(policy.account_id),
        account_id=policy.account_id,
        details={
            "VersionId": version_id,
            "SetAsDefault": set_as_default,
            "before": {
                "DefaultVersion": before_default,
                "PolicyDocument": default_document(policy, before_default),
            },
            "after": {"DefaultVersion": policy.default_version, "PolicyDocument": text},
        },
    )
    return version


def default_document(policy: Policy, version_id: str) -> str:
    version = policy.versions.filter(version_id=version_id).first()
    return version.document if version else ""


@transaction.atomic
def set_default_policy_version(actor: Actor, policy: Policy, version_id: str) -> Policy:
    require_custom(policy)
    if not policy.versions.filter(version_id=version_id).exists():
        raise errors.EntityNotExist(
            "EntityNotExist.Policy.Version", "The policy version does not exist."
        )
    before = policy.default_version
    policy.default_version = version_id
    policy.save(update_fields=["default_version", "updated"])
    versions.bump(policy.account_id)
    record(
        actor,
        "ram:SetDefaultPolicyVersion",
        policy.arn_for(policy.account_id),
        account_id=policy.account_id,
        details={"before": {"DefaultVersion": before}, "after": {"DefaultVersion": version_id}},
    )
    return policy


@transaction.atomic
def delete_policy_version(actor: Actor, policy: Policy, version_id: str) -> None:
    require_custom(policy)
    version = policy.versions.filter(version_id=version_id).first()
    if version is None:
        raise errors.EntityNotExist(
            "EntityNotExist.Policy.Version", "The policy version does not exist."
        )
    if version_id == policy.default_version:
        raise errors.DeleteConflict(
            "DeleteConflict.Policy.Version.Default", "The default version CAN NOT be deleted."
        )
    version.delete()
    record(
        actor,
        "ram:DeletePolicyVersion",
        policy.arn_for(policy.account_id),
        account_id=policy.account_id,
        details={"VersionId": version_id},
    )


@transaction.atomic
def delete_policy(actor: Actor, policy: Policy) -> None:
    require_custom(policy)
    attachments = policy.attachments.all()
    for kind in ("user", "group", "role"):
        if attachments.filter(**{f"{kind}__isnull": False}).exists():
            raise errors.DeleteConflict(
                f"DeleteConflict.Policy.{kind.title()}",
                f"The policy CAN NOT be attached to any {kind} while deleting the policy.",
            )
    if policy.versions.count() > 1:
        raise errors.DeleteConflict(
            "DeleteConflict.Policy.Version",
            "The policy CAN NOT has any non-default version while deleting the policy.",
        )
    arn, account_id = policy.arn_for(policy.account_id), policy.account_id
    policy.delete()
    versions.bump(account_id)  # an attachment made since the checks above goes with it
    record(actor, "ram:DeletePolicy", arn, account_id=account_id)


def find_policy(account: Account, name: str, policy_type: str) -> Policy:
    if policy_type not in Policy.Type.values:
        raise errors.InvalidParameter(
            "InvalidParameter.PolicyType",
            'The parameter - "PolicyType" must be System or Custom.',
            plain=gettext("Choose a system policy or a custom policy."),
        )
    policies = Policy.objects.filter(name__iexact=name, policy_type=policy_type)
    policies = (
        policies.filter(account__isnull=True)
        if policy_type == Policy.Type.SYSTEM
        else (policies.filter(account=account))
    )
    policy = policies.first()
    if policy is None:
        raise errors.EntityNotExist("EntityNotExist.Policy", "The policy does not exist.")
    return policy


# --- attachments --------------------------------------------------------------------------------

Principal = User | Group | Role
PRINCIPAL_NOUNS = {
    "User": gettext_noop("user"),
    "Group": gettext_noop("group"),
    "Role": gettext_noop("role"),
}
POLICY_NOUNS = {
    Policy.Type.SYSTEM: gettext_noop("system policies"),
    Policy.Type.CUSTOM: gettext_noop("custom policies"),
}


def principal_kind(principal: Principal) -> str:
    return {User: "User", Group: "Group", Role: "Role"}[type(principal)]


@transaction.atomic
@transaction.atomic
def attach_policies(actor: Actor, principal: Principal, policies: Iterable[Policy]) -> int:
    """Attach several policies in one transaction (the console's Authorize dialog)."""
    count = 0
    for policy in policies:
        attach_policy(actor, principal, policy)
        count += 1
    return count


@transaction.atomic
def attach_policy(actor: Actor, principal: Principal, policy: Policy) -> PolicyAttachment:
    kind = principal_kind(principal)
    if isinstance(principal, User) and principal.is_root:
        raise errors.InvalidParameter(
            "InvalidParameter.UserName",
            "Policies cannot be attached to the root identity.",
            plain=gettext("Policies cannot be attached to the root identity."),
        )
    if policy.account_id is not None and policy.account_id != principal.account_id:
        raise errors.EntityNotExist("EntityNotExist.Policy", "The policy does not exist.")
    field = kind.lower()
    existing = PolicyAttachment.objects.filter(**{field: principal}).select_related("policy")
    if existing.filter(policy=policy).exists():
        raise errors.EntityAlreadyExists(
            f"EntityAlreadyExists.{kind}.Policy",
            f"The {field} has already been attached this policy: {policy.name}.",
            plain=gettext("The policy %(name)s has already been attached to the %(principal)s.")
            % {"principal": gettext(PRINCIPAL_NOUNS[kind]), "name": policy.name},
        )
    same_type = sum(1 for a in existing if a.policy.policy_type == policy.policy_type)
    cap = limit(
        "system_policies_per_principal" if policy.is_system else "custom_policies_per_principal"
    )
    if same_type >= cap:
        raise errors.LimitExceeded(
            f"LimitExceeded.{kind}.Policy",
            f"The count of {policy.policy_type.lower()} policies attached to the {field} "
            "beyond the current limits.",
            plain=gettext("The %(principal)s has as many %(policies)s as it may have.")
            % {
                "principal": gettext(PRINCIPAL_NOUNS[kind]),
                "policies": gettext(POLICY_NOUNS[policy.policy_type]),
            },
        )
    attachment = PolicyAttachment.objects.create(policy=policy, **{field: principal})
    versions.bump(principal.account_id)
    record(
        actor,
        f"ram:AttachPolicyTo{kind}",
        principal.arn,
        account_id=principal.account_id,
        details={"PolicyName": policy.name, "PolicyType": policy.policy_type},
    )
    return attachment


@transaction.atomic
def detach_policy(actor: Actor, principal: Principal, policy: Policy) -> None:
    kind = principal_kind(principal)
    field = kind.lower()
    deleted, _ = PolicyAttachment.objects.filter(policy=policy, **{field: principal}).delete()
    if not deleted:
        raise errors.EntityNotExist(
            f"EntityNotExist.{kind}.Policy",
            f"The policy is not attached to the {field}.",
            plain=gettext("The policy is not attached to the %(principal)s.")
            % {"principal": gettext(PRINCIPAL_NOUNS[kind])},
        )
    versions.bump(principal.account_id)
    record(
        actor,
        f"ram:DetachPolicyFrom{kind}",
        principal.arn,
        account_id=principal.account_id,
        details={"PolicyName": policy.name, "PolicyType": policy.policy_type},
    )


# --- services -----------------------------------------------------------------------------------


@transaction.atomic
def create_service(
    actor: Actor, name: str, *, description: str = ""
) -> tuple[Service, NewAccessKey]:
    if not 3 <= len(name) <= 128 or not SERVICE_NAME_RE.match(name):
        raise errors.InvalidParameter(
            "InvalidParameter.ServiceName",
            "A service name is 3-128 lower-case letters, digits, dots and hyphens "
            "(e.g. oss.example.internal).",
            plain=gettext(
                "A service name is 3 to 128 lower-case letters, digits, dots (.) and hyphens (-)."
            ),
        )
    if Service.objects.filter(name=name).exists():
        raise errors.EntityAlreadyExists(
            "EntityAlreadyExists.Service",
            f"The service {name} does already EXIST.",
            plain=gettext("A service with this name already exists."),
        )
    service = Service.objects.create(name=name, description=description)
    new_key = issue_access_key(service=service)
    record(
        actor,
        "ram:CreateService",
        service.arn,
        details={"AccessKeyId": new_key.access_key.access_key_id},
    )
    return service, new_key


@transaction.atomic
def create_service_access_key(actor: Actor, service: Service) -> NewAccessKey:
    if service.access_keys.count() >= limit("access_keys_per_user"):
        raise errors.LimitExceeded(
            "LimitExceeded.Service.AccessKey",
            "The count of access keys of the service beyond the current limits.",
            plain=gettext("The service has as many access keys as it may have: delete one first."),
        )
    new_key = issue_access_key(service=service)
    record(
        actor,
        "ram:CreateServiceAccessKey",
        service.arn,
        details={"AccessKeyId": new_key.access_key.access_key_id},
    )
    return new_key


@transaction.atomic
def create_root_access_key(actor: Actor, account: Account) -> NewAccessKey:
    root = User.objects.get(account=account, kind=User.Kind.ROOT)
    return create_access_key(actor, root)
