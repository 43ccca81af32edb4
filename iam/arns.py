"""RAM's resource names (ARNs), built and read in one place.

Every ARN this service hands out, authorizes on or records is ``acs:ram::<account>:<relative-id>``
(RAM has no region, so that segment is empty):

======================================================  ==========================================
``acs:ram::<account>:root``                             an account's root identity
``acs:ram::<account>:user/<name>``                      a RAM user
``acs:ram::<account>:group/<name>``                     a group
``acs:ram::<account>:role/<name>``                      a role (name lower-cased)
``acs:ram::<account>:policy/<name>``                    a custom policy
``acs:ram::system:policy/<name>``                       a system policy
``acs:ram::<account>:assumed-role/<role>/<session>``    a role session (GetCallerIdentity)
``acs:ram::<account>:role/<role>/<session>``            a role session (AssumeRole's answer)
``acs:ram::service:<name>``                             a service principal
======================================================  ==========================================

``*`` as a name (``acs:ram::<account-id>:user/*``) or as the relative id (``acs:ram::<id>:*``) is
the resource of actions on no single object (list, create, account alias). Role names are
lower-cased in ARNs, as Alibaba does, so policies name roles in lower case; other names are kept as
written. These strings are on the wire (the official SDKs read them) and in stored audit events, so
they must not change.

Pure Python, without Django, so that ``iam.policy`` can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "acs:ram::"
ANY = "*"  # any name, any relative id, or (in trust policies) any account
SYSTEM = "system"  # the account segment of system policies
SERVICE_SEGMENT = "service"  # the account segment of service principals

ROOT = "root"
USER = "user"
GROUP = "group"
ROLE = "role"
POLICY = "policy"
ASSUMED_ROLE = "assumed-role"
SERVICE = "service"
SAML_PROVIDER = "saml-provider"
OIDC_PROVIDER = "oidc-provider"
KINDS = (ROOT, USER, GROUP, ROLE, POLICY, ASSUMED_ROLE, SERVICE, SAML_PROVIDER, OIDC_PROVIDER)

# The RoleArn parameter of AssumeRole and of the simulator: 16 ASCII digits and a role name as
# Alibaba accepts it, in any letter case. Groups: account id, role name as written.
ROLE_ARN_RE = re.compile(
    r"^acs:ram::(?P<account>\d{16}):role/(?P<name>[A-Za-z0-9.-]{1,64})\Z", re.IGNORECASE | re.ASCII
)
# A policy's Principal.RAM entry (use with fullmatch): an account's root, a user or a role;
# ``*`` as the account id stands for any account.
RAM_PRINCIPAL_PATTERN = re.compile(
    r"acs:ram::(?P<account>\d+|\*):(?:root|(?P<form>user|role)/(?P<name>[A-Za-z0-9._@-]{1,64}))"
)
# A policy's Principal.Federated entry (use with fullmatch): a SAML or OIDC identity provider.
FEDERATED_PRINCIPAL_PATTERN = re.compile(
    r"acs:ram::(?P<account>\d+):(?P<kind>saml-provider|oidc-provider)/(?P<name>[A-Za-z0-9._-]{1,128})"
)

ACCOUNT_ID = re.compile(r"[0-9]+|\*")
NAME = re.compile(r"[^/]+")


@dataclass(frozen=True)
class RamArn:
    """One RAM ARN, read by ``parse_arn``; ``str()`` gives it back exactly as it was written.

    ``kind`` is the resource type as the ARN writes it (one of ``KINDS``). ``account_id`` is
    ``SYSTEM`` for system policies and empty for services. ``name`` is the user, group, role,
    policy or service name, or for both role session forms the role's; ``session_name`` is set
    for those alone. Names are as written (a role name in a policy may have capitals).
    """

    kind: str
    account_id: str
    name: str = ""
    session_name: str = ""

    def __str__(self) -> str:
        if self.kind == SERVICE:
            return service_arn(self.name)
        if self.kind == ROOT:
            return root_arn(self.account_id)
        if self.session_name:
            return ram_arn(self.account_id, f"{self.kind}/{self.name}/{self.session_name}")
        return ram_arn(self.account_id, f"{self.kind}/{self.name}")


# --- building -----------------------------------------------------------------------------------


def ram_arn(account_id: str, relative_id: str) -> str:
    """``acs:ram::<account_id>:<relative_id>``; ``ram_arn(id, ANY)`` is every resource of it."""
    return f"{PREFIX}{account_id}:{relative_id}"


def root_arn(account_id: str) -> str:
    return ram_arn(account_id, ROOT)


def user_arn(account_id: str, name: str) -> str:
    return ram_arn(account_id, f"{USER}/{name}")


def group_arn(account_id: str, name: str) -> str:
    return ram_arn(account_id, f"{GROUP}/{name}")


def role_arn(account_id: str, name: str) -> str:
    """The role's ARN, its name lower-cased (role names are unique regardless of case)."""
    return ram_arn(account_id, f"{ROLE}/{name.lower()}")


def policy_arn(account_id: str, name: str) -> str:
    """A custom policy of ``account_id``; ``policy_arn(SYSTEM, name)`` is a system policy."""
    return ram_arn(account_id, f"{POLICY}/{name}")


def system_policy_arn(name: str) -> str:
    return policy_arn(SYSTEM, name)


def role_session_arn(account_id: str, role_name: str, session_name: str) -> str:
    """A role session as GetCallerIdentity, policies (``acs:PrincipalARN``) and the audit trail
    see it: ``assumed-role/<lower-cased role>/<session>``."""
    return ram_arn(account_id, f"{ASSUMED_ROLE}/{role_name.lower()}/{session_name}")


def assumed_role_user_arn(account_id: str, role_name: str, session_name: str) -> str:
    """A role session as AssumeRole's ``AssumedRoleUser.Arn`` names it: the role's ARN and
    ``/<session>``."""
    return f"{role_arn(account_id, role_name)}/{session_name}"


def saml_provider_arn(account_id: str, name: str) -> str:
    return ram_arn(account_id, f"{SAML_PROVIDER}/{name}")


def oidc_provider_arn(account_id: str, name: str) -> str:
    return ram_arn(account_id, f"{OIDC_PROVIDER}/{name}")


def service_arn(name: str) -> str:
    return ram_arn(SERVICE_SEGMENT, name)


# --- reading ------------------------------------------------------------------------------------


def parse_arn(text: str) -> RamArn | None:
    """The parts of one of the ARNs in this module's table, or None for anything else.

    Account ids are ASCII digits or ``*``; names are anything but empty or holding ``/``. The
    prefix and the resource types are compared exactly (this service writes them in lower case).
    This reads; it does not validate names: use the patterns above for input.
    """
    if not text.startswith(PREFIX):
        return None
    account_id, colon, relative_id = text.removeprefix(PREFIX).partition(":")
    if not colon:
        return None
    if account_id == SERVICE_SEGMENT:
        return RamArn(SERVICE, "", relative_id) if NAME.fullmatch(relative_id) else None
    if account_id == SYSTEM:
        kinds: tuple[str, ...] = (POLICY,)
    elif ACCOUNT_ID.fullmatch(account_id):
        kinds = (USER, GROUP, ROLE, POLICY, SAML_PROVIDER, OIDC_PROVIDER)
        if relative_id == ROOT:
            return RamArn(ROOT, account_id)
    else:
        return None
    kind, *names = relative_id.split("/")
    if not names or not all(NAME.fullmatch(name) for name in names):
        return None
    if len(names) == 1 and kind in kinds:
        return RamArn(kind, account_id, names[0])
    if len(names) == 2 and kind in (ROLE, ASSUMED_ROLE) and account_id != SYSTEM:
        return RamArn(kind, account_id, names[0], names[1])
    return None


def parse_principal(text: str) -> RamArn | None:
    """A policy's Principal.RAM entry (``RAM_PRINCIPAL_PATTERN``) as kind root, user or role, its
    account id possibly ``*``; None when it is not one."""
    match = RAM_PRINCIPAL_PATTERN.fullmatch(text)
    if match is None:
        return None
    return RamArn(match["form"] or ROOT, match["account"], match["name"] or "")


def resource_account(resource: str) -> str | None:
    """The account id of any service's ARN (``acs:<service>:<region>:<account>:<relative>``), as
    written (``*``, ``system``, ``service`` included); None for ``*``, an empty account segment or
    anything that is not an ARN."""
    parts = resource.split(":", 4)
    if len(parts) < 5 or parts[0] != "acs":
        return None
    return parts[3] or None
