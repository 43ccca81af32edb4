"""Who a trust policy trusts: the caller of AssumeRole and the principals a statement names."""

from __future__ import annotations

from dataclasses import dataclass

from iam.arns import FEDERATED_PRINCIPAL_PATTERN, OIDC_PROVIDER, SAML_PROVIDER, parse_principal
from iam.policy.parse import Principals

USER = "user"
ROLE_SESSION = "role_session"
ACCOUNT = "account"
SERVICE = "service"
FEDERATED = "federated"
PRINCIPAL_KINDS = (USER, ROLE_SESSION, ACCOUNT, SERVICE, FEDERATED)
# The STS action each kind of identity provider's users call (AssumeRoleWithSAML/OIDC).
FEDERATION_ACTIONS = {
    SAML_PROVIDER: "sts:AssumeRoleWithSAML",
    OIDC_PROVIDER: "sts:AssumeRoleWithOIDC",
}


@dataclass(frozen=True)
class TrustPrincipal:
    """The identity that asks to assume a role.

    ``name`` is the RAM user name (kind "user"), ``role_name`` the role of a role session (kind
    "role_session", for role chaining), ``service`` the service name (kind "service"),
    ``provider`` the identity provider's ARN (kind "federated": a user a SAML or OIDC provider
    vouches for; ``account_id`` is the provider's). Kind "account" is an account root: callers
    refuse roots before asking the trust policy.
    """

    kind: str
    account_id: str
    name: str = ""
    role_name: str = ""
    service: str = ""
    provider: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PRINCIPAL_KINDS:
            raise ValueError(f"kind must be one of {PRINCIPAL_KINDS}, not {self.kind!r}")

    @property
    def federation_action(self) -> str:
        """AssumeRoleWithSAML or AssumeRoleWithOIDC for a federated caller, else ""."""
        match = FEDERATED_PRINCIPAL_PATTERN.fullmatch(self.provider)
        return FEDERATION_ACTIONS[match["kind"]] if match else ""


class PrincipalMatcher:
    """The principals of one trust statement, ready to test callers.

    ``acs:ram::<uid>:root`` trusts every RAM user and role session of account ``<uid>`` (and the
    root itself, kind "account"); ``...:user/<name>`` that user; ``...:role/<name>`` sessions of
    that role. Names compare case-insensitively. ``*`` as the account id stands for any account.
    Service names compare case-insensitively. ``Federated`` entries name identity providers
    (``acs:ram::<uid>:saml-provider/<name>``, ``...:oidc-provider/<name>``): a federated caller
    matches the provider that vouched for it, its name compared case-insensitively.
    """

    __slots__ = ("federated", "ram", "services")

    def __init__(self, principals: Principals) -> None:
        entries: list[tuple[str, str, str]] = []
        for arn in principals.ram:
            named = parse_principal(arn)
            if named is None:  # parse_policy accepted only RAM principals
                raise ValueError(f"not a RAM principal: {arn}")
            entries.append((named.account_id, named.kind, named.name.casefold()))
        self.ram = tuple(entries)
        self.services = frozenset(service.casefold() for service in principals.service)
        self.federated = frozenset(provider.casefold() for provider in principals.federated)

    def matches(self, principal: TrustPrincipal) -> bool:
        if principal.kind == SERVICE:
            return principal.service.casefold() in self.services
        if principal.kind == FEDERATED:
            return principal.provider.casefold() in self.federated
        for account_id, form, name in self.ram:
            if account_id not in ("*", principal.account_id):
                continue
            if form == "root":
                return True
            if form == "user" and principal.kind == USER and principal.name.casefold() == name:
                return True
            if (
                form == "role"
                and principal.kind == ROLE_SESSION
                and principal.role_name.casefold() == name
            ):
                return True
        return False
