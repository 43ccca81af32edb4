"""Console logon: RAM users as ``name@alias`` (or ``name@<account id>``, optionally with the
``.onaliyun.com`` default-domain suffix), root identities with their email."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from iam.models import Account, User

DEFAULT_DOMAIN_SUFFIX = ".onaliyun.com"


def find_identity(logon_name: str) -> User | None:
    """Resolve a logon name to its identity, or None. Does not check any password."""
    logon_name = logon_name.strip()
    if "@" not in logon_name:
        return None
    root = (
        User.objects.select_related("account")
        .filter(logon_key=User.logon_key_for(User.Kind.ROOT, "", email=logon_name))
        .first()
    )
    if root is not None:
        return root
    name, _, domain = logon_name.rpartition("@")
    domain = domain.lower().removesuffix(DEFAULT_DOMAIN_SUFFIX)
    account = resolve_account(domain)
    if account is None or not name:
        return None
    return (
        User.objects.select_related("account")
        .filter(logon_key=User.logon_key_for(User.Kind.RAM, account.pk, name=name))
        .first()
    )


def resolve_account(alias_or_id: str) -> Account | None:
    """An account by its 16-digit id or its enterprise alias."""
    value = alias_or_id.strip().lower()
    if value.isdigit():
        return Account.objects.filter(pk=value).first()
    return Account.objects.filter(alias=value).first()


class LogonNameBackend(BaseBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user = find_identity(username)
        if user is None:
            # Spend the same time as a real check, so timing does not reveal which names exist.
            User().set_password(password)
            return None
        if user.check_password(password) and user.is_active and user.account_id:
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.select_related("account").filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
