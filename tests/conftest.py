"""Shared fixtures: the personas of every test (an admin of account A, a RAM user of A, a user of
account B, an auditor) built through the real services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

pytest_plugins = ["tests.idp.oidc_fixtures", "tests.idp.saml_fixtures"]

PASSWORD = "Test-pass-123"


@pytest.fixture(autouse=True)
def fresh_policy_caches() -> None:
    """Per-process caches key on database ids, which a rolled-back test may hand out again."""
    from iam.authz import policy_sets
    from sts import row_cache
    from sts.sessions import recheck_outcomes

    policy_sets.clear()
    recheck_outcomes.clear()
    row_cache.forget_all()
    row_cache.key_secrets.clear()


@pytest.fixture(autouse=True)
def language_of_its_own() -> Iterator[None]:
    """A request leaves its language active in the thread (Django's LocaleMiddleware activates
    one per request and never deactivates): each test starts and ends in the default."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def actor():  # type: ignore[no-untyped-def]
    from iam.audit import SYSTEM_ACTOR

    return SYSTEM_ACTOR


@pytest.fixture
def account_a(db):  # type: ignore[no-untyped-def]
    from iam import services
    from iam.audit import SYSTEM_ACTOR

    return services.create_account(
        SYSTEM_ACTOR, "company-a", email="root@a.example", password=PASSWORD
    )


@pytest.fixture
def account_b(db):  # type: ignore[no-untyped-def]
    from iam import services
    from iam.audit import SYSTEM_ACTOR

    return services.create_account(
        SYSTEM_ACTOR, "company-b", email="root@b.example", password=PASSWORD
    )


def make_user(account, name, policies=()):  # type: ignore[no-untyped-def]
    from iam import services
    from iam.audit import SYSTEM_ACTOR
    from iam.models import Policy

    user = services.create_user(SYSTEM_ACTOR, account, name)
    services.set_console_password(SYSTEM_ACTOR, user, PASSWORD, create=True)
    for policy_name in policies:
        policy = Policy.objects.get(account__isnull=True, name=policy_name)
        services.attach_policy(SYSTEM_ACTOR, user, policy)
    return user


@pytest.fixture
def admin_a(account_a):  # type: ignore[no-untyped-def]
    return make_user(account_a, "admin", ["AdministratorAccess"])


@pytest.fixture
def user_a(account_a):  # type: ignore[no-untyped-def]
    return make_user(account_a, "bob")


@pytest.fixture
def auditor_a(account_a):  # type: ignore[no-untyped-def]
    return make_user(account_a, "auditor", ["AliyunRAMReadOnlyAccess"])


@pytest.fixture
def user_b(account_b):  # type: ignore[no-untyped-def]
    return make_user(account_b, "alice", ["AliyunSTSAssumeRoleAccess"])
