"""Who a trust policy trusts: the caller of AssumeRole and the principals a statement names."""

from __future__ import annotations

from dataclasses import dataclass

from iam.arns import parse_principal
from iam.policy.parse import Principals

USER = "user"
ROLE_SESSION = "role_session"
ACCOUNT = "account"
SERVICE = "service"
PRINCIPAL_KINDS = (USER, ROLE_SESSION, ACCOUNT, SERVICE)


@dataclass(frozen=True)
class TrustPrincipal:
    """The identity that asks to assume a role.

    ``name`` is the RAM user name (kind "user"), ``role_name`` the role of a role session (kind
    "role_session", for role chaining), ``service`` the service name (kind "service"). Kind
    "account" is an account root: callers refuse roots before asking the trust policy.
    """

    kind: str
    account_id: str
    name: str = ""
    role_name: str = ""
    service: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PRINCIPAL_KINDS:
            raise ValueError(f"kind must be one of {PRINCIPAL_KINDS}, not {self.kind!r}")


class PrincipalMatcher:
    """The principals of one trust statement, ready to test callers.

    ``acs:ram::<uid>:root`` trusts every RAM user and role session of account ``<uid>`` (and the
    root itself, kind "account"); ``...:user/<name>`` that user; ``...:role/<name>`` sessions of
    that role. Names compare case-insensitively. ``*`` as the account id stands for any account.
    Service names compare case-insensitively. Federated principals never match: this service has
    no AssumeRoleWithSAML/OIDC, so none of its callers is a federated identity.
    """

    __slots__ = ("ram", "services")

    def __init__(self, principals: Principals) -> None:
        entries: list[tuple[str, str, str]] = []
        for arn in principals.ram:
            named = parse_principal(arn)
            if named is None:  # parse_policy accepted only RAM principals
                raise ValueError(f"not a RAM principal: {arn}")
            entries.append((named.account_id, named.kind, named.name.casefold()))
        self.ram = tuple(entries)
        self.services = frozenset(service.casefold() for service in principals.service)

    def matches(self, principal: TrustPrincipal) -> bool:
        if principal.kind == SERVICE:
            return principal.service.casefold() in self.services
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
