"""RAM 2015-05-01 actions over the RPC API.

Each action authorizes ``ram:<Action>`` on the target's ARN as the effective identity (a role
session's permissions are its role's policies intersected with its session policy), then calls
one service, so the console and the API share every rule. Objects of other accounts are never
found: a role session acts in its role's account, everyone else in their own.
"""

from __future__ import annotations

import base64
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from iam import arns, errors, security, services, tags
from iam.authz import require
from iam.models import AccessKey, Account, Group, Policy, PolicyAttachment, Role, User
from iam.rpc import Call, action, iso

RAM_VERSION = "2015-05-01"


def account_of(call: Call) -> Account:
    identity = call.identity
    if identity.role is not None:
        return identity.role.account
    if identity.user is not None:
        return identity.user.account
    raise errors.NoPermission("NoPermission", "Services have no RAM account of their own.")


def authorize(call: Call, resource: str, context: dict[str, Any] | None = None) -> None:
    """``context`` adds to the request's (``acs:RequestTag/<key>`` of tags the call sets)."""
    require(call.identity, f"ram:{call.action}", resource, {**call.context, **(context or {})})


def authorize_on_account(call: Call) -> Account:
    """The caller's account, once ``ram:<Action>`` on all of it (``acs:ram::<uid>:*``) is
    allowed: the account-level actions (its alias, password policy, security preference)."""
    account = account_of(call)
    authorize(call, arns.ram_arn(account.pk, arns.ANY))
    return account


def authorize_on_user(call: Call, user: User) -> None:
    """``authorize``, with what the account's security preference grants a RAM user over itself
    (managing its own AccessKeys: ``iam.security.require_on_user``)."""
    security.require_on_user(call.identity, f"ram:{call.action}", user, call.context)


def integer(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.param(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise errors.InvalidParameter(
            f"InvalidParameter.{name}",
            f'The parameter - "{name}" must be an integer from {low} to {high}.',
        )
    return value


MARKER_MAX_KEY = 256  # longer than any name or id a list is ordered by


def page(call: Call, queryset: QuerySet[Any], key: str = "name") -> tuple[list[Any], dict]:
    """Marker/MaxItems paging: the marker is the opaque encoded last key of the previous page."""
    max_items = integer(call, "MaxItems", 100, 1, 1000)
    marker = call.param("Marker")
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            after = "\x00"
        if "\x00" in after or len(after) > MARKER_MAX_KEY:
            # Not a marker we handed out: ours encode a name, never a NUL (nor can PostgreSQL
            # compare one).
            raise errors.InvalidParameter(
                "InvalidParameter.Marker", 'The parameter - "Marker" is invalid.'
            )
        queryset = queryset.filter(**{f"{key}__gt": after})
    rows = list(queryset.order_by(key)[: max_items + 1])
    truncated = len(rows) > max_items
    rows = rows[:max_items]
    paging: dict[str, Any] = {"IsTruncated": truncated}
    if truncated:
        paging["Marker"] = base64.urlsafe_b64encode(str(getattr(rows[-1], key)).encode()).decode()
    return rows, paging


# --- representations ----------------------------------------------------------------------------


def role_body(role: Role, *, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RoleId": role.role_id,
        "RoleName": role.name,
        "Arn": role.arn,
        "Description": role.description,
        "CreateDate": iso(role.created),
        "UpdateDate": iso(role.updated),
        "MaxSessionDuration": role.max_session_duration,
    }
    if full:
        body["AssumeRolePolicyDocument"] = role.trust_policy
        body["IsServiceLinkedRole"] = False
    return body


def user_body(user: User) -> dict[str, Any]:
    return {
        "UserId": user.user_id,
        "UserName": user.name,
        "DisplayName": user.display_name,
        "Email": user.email,
        "MobilePhone": user.mobile_phone,
        "Comments": user.comments,
        "CreateDate": iso(user.created),
        "UpdateDate": iso(user.updated),
        "LastLoginDate": iso(user.last_login_date),
    }


def group_body(group: Group) -> dict[str, Any]:
    return {
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Comments": group.comments,
        "CreateDate": iso(group.created),
        "UpdateDate": iso(group.updated),
    }


def policy_body(policy: Policy, attachment_count: int | None = None) -> dict[str, Any]:
    body = {
        "PolicyName": policy.name,
        "PolicyType": policy.policy_type,
        "Description": policy.description,
        "DefaultVersion": policy.default_version,
        "CreateDate": iso(policy.created),
        "UpdateDate": iso(policy.updated),
    }
    if attachment_count is not None:
        body["AttachmentCount"] = attachment_count
    return body


def attached_body(attachments: QuerySet[PolicyAttachment]) -> dict[str, Any]:
    rows = attachments.select_related("policy").order_by("attached")
    return {
        "Policies": {
            "Policy": [{**policy_body(a.policy), "AttachDate": iso(a.attached)} for a in rows]
        }
    }


def access_key_body(key: AccessKey) -> dict[str, Any]:
    return {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": iso(key.created)}


# --- look-ups (other accounts' objects are simply not found) ------------------------------------


def get_role(call: Call, account: Account, param: str = "RoleName") -> Role:
    name = call.param(param, required=True) or ""
    role = Role.objects.filter(account=account, name__iexact=name).first()
    if role is None:
        raise errors.EntityNotExist("EntityNotExist.Role", "The role does not exist.")
    return role


def get_user(call: Call, account: Account, *, default_self: bool = False) -> User:
    name = call.param("UserName", required=not default_self)
    if not name and call.identity.user is not None:
        return call.identity.user
    user = User.objects.filter(account=account, kind=User.Kind.RAM, name__iexact=name).first()
    if user is None:
        raise errors.EntityNotExist("EntityNotExist.User", "The user does not exist.")
    return user


def get_group(call: Call, account: Account) -> Group:
    name = call.param("GroupName", required=True) or ""
    group = Group.objects.filter(account=account, name__iexact=name).first()
    if group is None:
        raise errors.EntityNotExist("EntityNotExist.Group", "The group does not exist.")
    return group


def get_policy(call: Call, account: Account, *, default_type: str | None = None) -> Policy:
    name = call.param("PolicyName", required=True) or ""
    policy_type = call.param("PolicyType", required=default_type is None) or default_type or ""
    return services.find_policy(account, name, policy_type)


# --- roles --------------------------------------------------------------------------------------


@action(RAM_VERSION, "CreateRole")
def create_role(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("RoleName", required=True) or ""
    new_tags = tags.check_tags(call.pairs("Tag"))
    authorize(call, arns.role_arn(account.pk, name), tags.request_context(new_tags))
    with transaction.atomic():
        role = services.create_role(
            call.actor,
            account,
            name,
            trust_policy=call.param("AssumeRolePolicyDocument", required=True) or "",
            description=call.param("Description", default="") or "",
            max_session_duration=call.param("MaxSessionDuration", default="3600"),
        )
        if new_tags:
            tags.tag_resources(call.actor, [role], new_tags)
    body = role_body(role)
    body.pop("UpdateDate")
    return {"Role": body}


@action(RAM_VERSION, "GetRole")
def get_role_action(call: Call) -> dict[str, Any]:
    role = get_role(call, account_of(call))
    authorize(call, role.arn)
    return {"Role": role_body(role)}


@action(RAM_VERSION, "ListRoles")
def list_roles(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.role_arn(account.pk, arns.ANY))
    roles, paging = page(call, Role.objects.filter(account=account))
    return {**paging, "Roles": {"Role": [role_body(r, full=False) for r in roles]}}


@action(RAM_VERSION, "UpdateRole")
def update_role(call: Call) -> dict[str, Any]:
    role = get_role(call, account_of(call))
    authorize(call, role.arn)
    role = services.update_role(
        call.actor,
        role,
        trust_policy=call.param("NewAssumeRolePolicyDocument") or None,
        description=call.param("NewDescription"),
        max_session_duration=call.param("NewMaxSessionDuration") or None,
    )
    return {"Role": role_body(role)}


@action(RAM_VERSION, "DeleteRole")
def delete_role(call: Call) -> dict[str, Any]:
    role = get_role(call, account_of(call))
    authorize(call, role.arn)
    services.delete_role(call.actor, role)
    return {}


@action(RAM_VERSION, "ListPoliciesForRole")
def list_policies_for_role(call: Call) -> dict[str, Any]:
    role = get_role(call, account_of(call))
    authorize(call, role.arn)
    return attached_body(PolicyAttachment.objects.filter(role=role))


# --- attachments (roles, users, groups) ---------------------------------------------------------


def principal_for(call: Call, kind: str) -> Role | User | Group:
    account = account_of(call)
    if kind == "Role":
        return get_role(call, account)
    if kind == "User":
        return get_user(call, account)
    return get_group(call, account)


def register_attachment_actions(kind: str) -> None:
    def attach(call: Call) -> dict[str, Any]:
        principal = principal_for(call, kind)
        authorize(call, principal.arn)
        services.attach_policy(call.actor, principal, get_policy(call, account_of(call)))
        return {}

    def detach(call: Call) -> dict[str, Any]:
        principal = principal_for(call, kind)
        authorize(call, principal.arn)
        services.detach_policy(call.actor, principal, get_policy(call, account_of(call)))
        return {}

    action(RAM_VERSION, f"AttachPolicyTo{kind}")(attach)
    action(RAM_VERSION, f"DetachPolicyFrom{kind}")(detach)


for principal_kind in ("Role", "User", "Group"):
    register_attachment_actions(principal_kind)


# --- users --------------------------------------------------------------------------------------


@action(RAM_VERSION, "CreateUser")
def create_user(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("UserName", required=True) or ""
    authorize(call, arns.user_arn(account.pk, name))
    user = services.create_user(
        call.actor,
        account,
        name,
        display_name=call.param("DisplayName", default="") or "",
        email=call.param("Email", default="") or "",
        mobile_phone=call.param("MobilePhone", default="") or "",
        comments=call.param("Comments", default="") or "",
    )
    body = user_body(user)
    for key in ("UpdateDate", "LastLoginDate"):
        body.pop(key)
    return {"User": body}


@action(RAM_VERSION, "GetUser")
def get_user_action(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    return {"User": user_body(user)}


@action(RAM_VERSION, "ListUsers")
def list_users(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.user_arn(account.pk, arns.ANY))
    users, paging = page(call, User.objects.filter(account=account, kind=User.Kind.RAM))
    return {**paging, "Users": {"User": [user_body(u) for u in users]}}


@action(RAM_VERSION, "DeleteUser")
def delete_user(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    services.delete_user(call.actor, user)
    return {}


@action(RAM_VERSION, "CreateLoginProfile")
def create_login_profile(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    user = services.set_console_password(
        call.actor,
        user,
        call.param("Password", required=True) or "",
        password_reset_required=call.flag("PasswordResetRequired"),
        mfa_bind_required=call.flag("MFABindRequired"),
        create=True,
    )
    return {
        "LoginProfile": {
            "UserName": user.name,
            "PasswordResetRequired": user.password_reset_required,
            "MFABindRequired": user.mfa_bind_required,
            "CreateDate": iso(user.login_profile_created),
        }
    }


@action(RAM_VERSION, "CreateAccessKey")
def create_access_key(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call), default_self=True)
    authorize_on_user(call, user)
    new_key = services.create_access_key(call.actor, user)
    return {"AccessKey": {**access_key_body(new_key.access_key), "AccessKeySecret": new_key.secret}}


def get_access_key(call: Call, user: User) -> AccessKey:
    key_id = call.param("UserAccessKeyId", required=True)
    key = user.access_keys.filter(pk=key_id).first()
    if key is None:
        raise errors.EntityNotExist(
            "EntityNotExist.User.AccessKey", "The access key does not exist."
        )
    return key


@action(RAM_VERSION, "ListAccessKeys")
def list_access_keys(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call), default_self=True)
    authorize_on_user(call, user)
    return {"AccessKeys": {"AccessKey": [access_key_body(k) for k in user.access_keys.all()]}}


@action(RAM_VERSION, "UpdateAccessKey")
def update_access_key(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call), default_self=True)
    authorize_on_user(call, user)
    services.update_access_key_status(
        call.actor, get_access_key(call, user), call.param("Status", required=True) or ""
    )
    return {}


@action(RAM_VERSION, "DeleteAccessKey")
def delete_access_key(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call), default_self=True)
    authorize_on_user(call, user)
    services.delete_access_key(call.actor, get_access_key(call, user))
    return {}


@action(RAM_VERSION, "ListPoliciesForUser")
def list_policies_for_user(call: Call) -> dict[str, Any]:
    user = get_user(call, account_of(call))
    authorize(call, user.arn)
    return attached_body(PolicyAttachment.objects.filter(user=user))


# --- groups -------------------------------------------------------------------------------------


@action(RAM_VERSION, "CreateGroup")
def create_group(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("GroupName", required=True) or ""
    authorize(call, arns.group_arn(account.pk, name))
    group = services.create_group(
        call.actor, account, name, comments=call.param("Comments", default="") or ""
    )
    body = group_body(group)
    body.pop("UpdateDate")
    return {"Group": body}


@action(RAM_VERSION, "GetGroup")
def get_group_action(call: Call) -> dict[str, Any]:
    group = get_group(call, account_of(call))
    authorize(call, group.arn)
    return {"Group": group_body(group)}


@action(RAM_VERSION, "ListGroups")
def list_groups(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.group_arn(account.pk, arns.ANY))
    groups, paging = page(call, Group.objects.filter(account=account))
    return {**paging, "Groups": {"Group": [group_body(g) for g in groups]}}


@action(RAM_VERSION, "DeleteGroup")
def delete_group(call: Call) -> dict[str, Any]:
    group = get_group(call, account_of(call))
    authorize(call, group.arn)
    services.delete_group(call.actor, group)
    return {}


@action(RAM_VERSION, "AddUserToGroup")
def add_user_to_group(call: Call) -> dict[str, Any]:
    account = account_of(call)
    group = get_group(call, account)
    authorize(call, group.arn)
    services.add_user_to_group(call.actor, group, get_user(call, account))
    return {}


@action(RAM_VERSION, "RemoveUserFromGroup")
def remove_user_from_group(call: Call) -> dict[str, Any]:
    account = account_of(call)
    group = get_group(call, account)
    authorize(call, group.arn)
    services.remove_user_from_group(call.actor, group, get_user(call, account))
    return {}


@action(RAM_VERSION, "ListPoliciesForGroup")
def list_policies_for_group(call: Call) -> dict[str, Any]:
    group = get_group(call, account_of(call))
    authorize(call, group.arn)
    return attached_body(PolicyAttachment.objects.filter(group=group))


# --- policies -----------------------------------------------------------------------------------


def version_body(policy: Policy, version: Any) -> dict[str, Any]:
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == policy.default_version,
        "PolicyDocument": version.document,
        "CreateDate": iso(version.created),
    }


@action(RAM_VERSION, "CreatePolicy")
def create_policy(call: Call) -> dict[str, Any]:
    account = account_of(call)
    name = call.param("PolicyName", required=True) or ""
    new_tags = tags.check_tags(call.pairs("Tag"))
    authorize(call, arns.policy_arn(account.pk, name), tags.request_context(new_tags))
    with transaction.atomic():
        policy = services.create_policy(
            call.actor,
            account,
            name,
            document=call.param("PolicyDocument", required=True) or "",
            description=call.param("Description", default="") or "",
        )
        if new_tags:
            tags.tag_resources(call.actor, [policy], new_tags)
    return {"Policy": policy_body(policy)}


@action(RAM_VERSION, "GetPolicy")
def get_policy_action(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account)
    authorize(call, policy.arn_for(account.pk))
    default = policy.versions.get(version_id=policy.default_version)
    return {
        "Policy": {
            **policy_body(
                policy,
                policy.attachments.filter(
                    Q(user__account=account) | Q(group__account=account) | Q(role__account=account)
                ).count(),
            ),
            "PolicyDocument": default.document,
        },
        "DefaultPolicyVersion": version_body(policy, default),
    }


@action(RAM_VERSION, "ListPolicies")
def list_policies(call: Call) -> dict[str, Any]:
    account = account_of(call)
    authorize(call, arns.policy_arn(account.pk, arns.ANY))
    policy_type = call.param("PolicyType")
    queryset = Policy.objects.filter(Q(account=account) | Q(account__isnull=True))
    if policy_type:
        if policy_type not in Policy.Type.values:
            raise errors.InvalidParameter(
                "InvalidParameter.PolicyType",
                'The parameter - "PolicyType" must be System or Custom.',
            )
        queryset = queryset.filter(policy_type=policy_type)
    queryset = queryset.annotate(
        attachment_count=Count(
            "attachments",
            filter=(
                Q(attachments__user__account=account)
                | Q(attachments__group__account=account)
                | Q(attachments__role__account=account)
            ),
        )
    )
    policies, paging = page(call, queryset)
    return {
        **paging,
        "Policies": {"Policy": [policy_body(p, p.attachment_count) for p in policies]},
    }


@action(RAM_VERSION, "DeletePolicy")
def delete_policy(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account, default_type=Policy.Type.CUSTOM)
    authorize(call, policy.arn_for(account.pk))
    services.delete_policy(call.actor, policy)
    return {}


@action(RAM_VERSION, "CreatePolicyVersion")
def create_policy_version(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account, default_type=Policy.Type.CUSTOM)
    authorize(call, policy.arn_for(account.pk))
    version = services.create_policy_version(
        call.actor,
        policy,
        document=call.param("PolicyDocument", required=True) or "",
        set_as_default=call.flag("SetAsDefault"),
        rotate_strategy=call.param("RotateStrategy", default="None") or "None",
    )
    policy.refresh_from_db()
    return {"PolicyVersion": version_body(policy, version)}


def get_version(call: Call, policy: Policy) -> Any:
    version_id = call.param("VersionId", required=True)
    version = policy.versions.filter(version_id=version_id).first()
    if version is None:
        raise errors.EntityNotExist(
            "EntityNotExist.Policy.Version", "The policy version does not exist."
        )
    return version


@action(RAM_VERSION, "GetPolicyVersion")
def get_policy_version(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account)
    authorize(call, policy.arn_for(account.pk))
    return {"PolicyVersion": version_body(policy, get_version(call, policy))}


@action(RAM_VERSION, "ListPolicyVersions")
def list_policy_versions(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account)
    authorize(call, policy.arn_for(account.pk))
    return {
        "PolicyVersions": {
            "PolicyVersion": [
                version_body(policy, v) for v in policy.versions.order_by("created", "id")
            ]
        }
    }


@action(RAM_VERSION, "SetDefaultPolicyVersion")
def set_default_policy_version(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account, default_type=Policy.Type.CUSTOM)
    authorize(call, policy.arn_for(account.pk))
    services.set_default_policy_version(
        call.actor, policy, call.param("VersionId", required=True) or ""
    )
    return {}


@action(RAM_VERSION, "DeletePolicyVersion")
def delete_policy_version(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account, default_type=Policy.Type.CUSTOM)
    authorize(call, policy.arn_for(account.pk))
    services.delete_policy_version(call.actor, policy, call.param("VersionId", required=True) or "")
    return {}


@action(RAM_VERSION, "ListEntitiesForPolicy")
def list_entities_for_policy(call: Call) -> dict[str, Any]:
    account = account_of(call)
    policy = get_policy(call, account)
    authorize(call, policy.arn_for(account.pk))
    attachments = policy.attachments.select_related("user", "group", "role")
    users, groups, roles = [], [], []
    for attachment in attachments:
        if attachment.user and attachment.user.account_id == account.pk:
            users.append({**user_body(attachment.user), "AttachDate": iso(attachment.attached)})
        elif attachment.group and attachment.group.account_id == account.pk:
            groups.append({**group_body(attachment.group), "AttachDate": iso(attachment.attached)})
        elif attachment.role and attachment.role.account_id == account.pk:
            roles.append(
                {**role_body(attachment.role, full=False), "AttachDate": iso(attachment.attached)}
            )
    return {"Users": {"User": users}, "Groups": {"Group": groups}, "Roles": {"Role": roles}}


# --- account alias ------------------------------------------------------------------------------


@action(RAM_VERSION, "GetAccountAlias")
def get_account_alias(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    return {"AccountAlias": account.alias}


@action(RAM_VERSION, "SetAccountAlias")
def set_account_alias(call: Call) -> dict[str, Any]:
    account = authorize_on_account(call)
    # A row of its own to change: the identity's may be shared with other requests (sts.cached).
    account = Account.objects.get(pk=account.pk)
    services.set_account_alias(call.actor, account, call.param("AccountAlias", required=True) or "")
    return {}
