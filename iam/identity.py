"""Who a request acts as: the effective identity, and the real identity behind it.

Console requests, RAM API calls and STS calls all resolve to an ``Identity`` before anything is
authorized. For a role session (a switched console session or STS credentials) the effective
identity is the role session and ``logon_arn`` keeps the real user who started it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from iam import arns

if TYPE_CHECKING:
    from iam.models import Role, Service, User


# What resolving and authorizing an identity reads of its user, account and role. The API's
# reads (``QuerySet.only``) read only these; Django loads any other field
# (password hash, contact details, timestamps) on first use.
IDENTITY_USER_FIELDS = (
    "account_id",
    "kind",
    "user_id",
    "name",
    "display_name",
    "is_active",
)
IDENTITY_ACCOUNT_FIELDS = ("alias", "display_name", "version")
IDENTITY_ROLE_FIELDS = (
    "account_id",
    "role_id",
    "name",
    "trust_policy",
    "max_session_duration",
    "sessions_revoked_before",
    "trust_revision",
    "last_used",
)


class IdentityKind(StrEnum):
    ROOT = "root"
    USER = "user"
    ROLE_SESSION = "role_session"
    SERVICE = "service"
    FEDERATED = "federated"


@dataclass(frozen=True)
class FederatedInfo:
    """Who an identity provider vouches for, before a role is assumed: the subject of a SAML
    assertion or an OIDC ID token, and the provider (of the role's account) that issued it."""

    provider_arn: str
    provider_kind: str  # "saml" or "oidc"
    provider_name: str
    subject: str


@dataclass(frozen=True)
class RoleSessionInfo:
    """What a role session carries: who started it and what narrows it."""

    session_id: str
    session_name: str
    expires_at: int
    session_policy: str | None = None
    source_identity: str = ""
    source_account_id: str = ""
    display_name: str = ""
    color: str = ""
    chain_depth: int = 0


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    account_id: str
    user: User | None = None
    role: Role | None = None
    service: Service | None = None
    session: RoleSessionInfo | None = None
    federated: FederatedInfo | None = None
    mfa_present: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.kind is IdentityKind.ROOT

    @property
    def arn(self) -> str:
        """The identity's ARN in the GetCallerIdentity form (``assumed-role/`` for sessions)."""
        if self.kind is IdentityKind.ROLE_SESSION:
            assert self.role is not None and self.session is not None
            return arns.role_session_arn(self.account_id, self.role.name, self.session.session_name)
        if self.kind is IdentityKind.SERVICE:
            assert self.service is not None
            return self.service.arn
        if self.kind is IdentityKind.FEDERATED:
            assert self.federated is not None
            return f"{self.federated.provider_arn}/{self.federated.subject}"
        assert self.user is not None
        return self.user.arn

    @property
    def logon_arn(self) -> str:
        """The real identity behind the request (kept through role chaining)."""
        if self.session is not None and self.session.source_identity:
            return self.session.source_identity
        return self.arn

    @property
    def display(self) -> str:
        """How the console header names the identity (``alice@company2``, ``ecs-admin/alice``)."""
        if self.kind is IdentityKind.ROLE_SESSION:
            assert self.role is not None and self.session is not None
            return f"{self.role.name}/{self.session.session_name}"
        if self.kind is IdentityKind.SERVICE:
            assert self.service is not None
            return self.service.name
        if self.kind is IdentityKind.FEDERATED:
            assert self.federated is not None
            return self.federated.subject
        assert self.user is not None
        return self.user.logon_name

    @property
    def principal_description(self) -> str:
        """Words for explanations: ``user alice``, ``role ecs-admin``, ``the root identity``."""
        if self.kind is IdentityKind.ROLE_SESSION:
            assert self.role is not None
            return _("role %(name)s") % {"name": self.role.name}
        if self.kind is IdentityKind.SERVICE:
            assert self.service is not None
            return _("service %(name)s") % {"name": self.service.name}
        if self.kind is IdentityKind.ROOT:
            return _("the root identity")
        if self.kind is IdentityKind.FEDERATED:
            assert self.federated is not None
            federated = self.federated
            return _("%(subject)s of %(kind)s identity provider %(provider)s") % {
                "subject": federated.subject,
                "kind": federated.provider_kind.upper(),
                "provider": federated.provider_name,
            }
        assert self.user is not None
        return _("user %(name)s") % {"name": self.user.name}


def identity_for_user(user: User, *, mfa_present: bool = False) -> Identity:
    kind = IdentityKind.ROOT if user.is_root else IdentityKind.USER
    return Identity(kind=kind, account_id=user.account_id, user=user, mfa_present=mfa_present)
