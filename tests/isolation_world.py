"""Three tenants with every kind of object, for the tenant-isolation property (test_isolation.py).

Every object of tenant ``x`` is named ``tx-…``, so a name of one tenant can be searched for in
another tenant's responses without matching anything else. Each tenant has users (an admin, a
read-only auditor, a user without rights, a user who may assume roles, one with console access
only), a group with members and a custom policy, three roles (one trusting its own account, one
trusting the next tenant's account and a user of the third that does not exist, one trusting a
service), access keys, role sessions (its own user's and the previous tenant's assumer's on the
cross-account role), audit events of all of these, and a Switch Role history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.identity import identity_for_user
from iam.models import Account, Group, Policy, Role, User
from iam.system_policies import ensure_system_policies
from sts.assume import AssumeRoleInput, assume_role
from sts.models import RoleSession

TENANTS = ("a", "b", "c")
SERVICE = "isolation-svc.example.internal"


@dataclass
class Tenant:
    code: str
    account: Account
    users: dict[str, User] = field(default_factory=dict)
    group: Group | None = None
    policy: Policy | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    access_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # user -> (id, secret)

    def name(self, suffix: str) -> str:
        return f"t{self.code}-{suffix}"


@dataclass
class World:
    tenants: dict[str, Tenant]

    def tenant(self, code: str) -> Tenant:
        return self.tenants[code]

    def identifiers(self, code: str) -> set[str]:
        """Everything that names one of the tenant's users, groups, policies, roles or sessions:
        names, RoleIds, access key ids, session ids and session names."""
        tenant = self.tenants[code]
        found = {user.name for user in tenant.users.values()}
        found |= {tenant.group.name, tenant.policy.name}  # type: ignore[union-attr]
        for role in tenant.roles.values():
            found |= {role.name, role.role_id}
        found |= {key_id for key_id, _ in tenant.access_keys.values()}
        for session in RoleSession.objects.filter(account_id=tenant.account.pk):
            found |= {session.session_id, session.session_name, session.access_key_id}
        return {value for value in found if value}

    def known_to(self, code: str) -> set[str]:
        """Identifiers of other tenants that tenant ``code`` may see: what it wrote into its own
        documents, the callers of sessions of its roles (its own record of who used them), and
        the roles and sessions its own users obtained from other tenants."""
        tenant = self.tenants[code]
        known: set[str] = set()
        written = " ".join(
            [role.trust_policy for role in Role.objects.filter(account=tenant.account)]
            + [
                version.document
                for policy in Policy.objects.filter(account=tenant.account)
                for version in policy.versions.all()
            ]
        )
        for other in TENANTS:
            if other == code:
                continue
            for value in self.identifiers(other):
                if value in written:
                    known.add(value)
        for session in RoleSession.objects.filter(account_id=tenant.account.pk):
            caller = session.caller_user
            if caller is not None:
                known.add(caller.name)
        own_users = list(tenant.users.values())
        for session in RoleSession.objects.filter(caller_user__in=own_users).select_related("role"):
            known |= {session.session_id, session.session_name, session.access_key_id}
            if session.role is not None:
                known |= {session.role.name, session.role.role_id}
        return known

    def forbidden_for(self, code: str) -> set[str]:
        """Identifiers of the other tenants that no response to tenant ``code`` may contain,
        unless the request itself carried them."""
        others = set().union(*(self.identifiers(other) for other in TENANTS if other != code))
        return others - self.known_to(code)


def trust(*principals: str, service: str = "") -> str:
    statement: dict = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {}}
    if principals:
        statement["Principal"]["RAM"] = list(principals)
    if service:
        statement["Principal"]["Service"] = [service]
    return json.dumps({"Version": "1", "Statement": [statement]})


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


def build_tenant(code: str) -> Tenant:
    actor = SYSTEM_ACTOR
    account = services.create_account(actor, f"tenant-{code}", email=f"root@{code}.example")
    tenant = Tenant(code, account)
    tenant.users["root"] = User.objects.get(account=account, kind=User.Kind.ROOT)
    for role_name, policies in (
        ("admin", ["AdministratorAccess"]),
        ("auditor", ["AliyunRAMReadOnlyAccess"]),
        ("plain", []),
        ("assumer", ["AliyunSTSAssumeRoleAccess"]),
        ("viewer", []),
    ):
        user = services.create_user(actor, account, tenant.name(role_name))
        for policy_name in policies:
            services.attach_policy(actor, user, system_policy(policy_name))
        tenant.users[role_name] = user
    for user_key in ("admin", "auditor", "plain", "assumer", "root"):
        new_key = services.create_access_key(actor, tenant.users[user_key])
        tenant.access_keys[user_key] = (new_key.access_key.access_key_id, new_key.secret)
    tenant.policy = services.create_policy(
        actor,
        account,
        tenant.name("policy"),
        document=json.dumps(
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}],
            }
        ),
    )
    tenant.group = services.create_group(actor, account, tenant.name("group"))
    services.add_user_to_group(actor, tenant.group, tenant.users["viewer"])
    services.attach_policy(actor, tenant.group, tenant.policy)
    return tenant


def build_world() -> World:
    ensure_system_policies()
    services.create_service(SYSTEM_ACTOR, SERVICE)
    tenants = {code: build_tenant(code) for code in TENANTS}
    actor = SYSTEM_ACTOR
    for index, code in enumerate(TENANTS):
        tenant = tenants[code]
        following = tenants[TENANTS[(index + 1) % 3]]
        third = tenants[TENANTS[(index + 2) % 3]]
        own = services.create_role(
            actor,
            tenant.account,
            tenant.name("own-role"),
            trust_policy=trust(tenant.account.root_arn),
        )
        cross = services.create_role(
            actor,
            tenant.account,
            tenant.name("cross-role"),
            trust_policy=trust(
                following.account.root_arn,
                f"acs:ram::{third.account.pk}:user/{third.name('named')}",
            ),
        )
        service_role = services.create_role(
            actor, tenant.account, tenant.name("service-role"), trust_policy=trust(service=SERVICE)
        )
        services.attach_policy(actor, own, system_policy("AliyunRAMReadOnlyAccess"))
        services.attach_policy(actor, cross, tenant.policy)  # type: ignore[arg-type]
        services.attach_policy(actor, cross, system_policy("AliyunRAMReadOnlyAccess"))
        tenant.roles = {"own": own, "cross": cross, "service": service_role}
    for index, code in enumerate(TENANTS):
        tenant = tenants[code]
        following = tenants[TENANTS[(index + 1) % 3]]
        assume(tenant.users["assumer"], tenant.roles["own"], tenant.name("own-session"))
        assume(following.users["assumer"], tenant.roles["cross"], following.name("cross-session"))
    return World(tenants)


def assume(user: User, role: Role, session_name: str) -> None:
    assume_role(
        identity_for_user(user),
        AssumeRoleInput(role_arn=role.arn, session_name=session_name),
        actor=SYSTEM_ACTOR,
    )
