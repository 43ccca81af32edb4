"""The AssumeRole simulation for a user of an identity provider (``sts.simulate``): the claims
of the assertion or token become condition keys, AssumeRole's own checks decide and agree with
AssumeRole itself, and a provider is found in the simulating account or not at all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.demo import trust_accounts
from iam.errors import ServiceError
from iam.models import Account, OIDCProvider, Role, SAMLProvider
from sts import saml
from sts.assume import AssumeRoleInput, assume_role
from sts.simulate import (
    FAILED,
    PASSED,
    SimulationError,
    find_provider,
    provider_user,
    simulate_assume_role,
)
from tests.iam.test_providers import FINGERPRINT, ISSUER, metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def okta(account_a: Account) -> SAMLProvider:
    return providers.create_saml_provider(SYSTEM_ACTOR, account_a, "okta", metadata=metadata())


@pytest.fixture
def github(account_a: Account) -> OIDCProvider:
    return providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account_a,
        "github",
        issuer_url=ISSUER,
        client_ids="app-1,app-2",
        fingerprints=FINGERPRINT,
    )


def federated_trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(provider: str, action: str = "sts:AssumeRole", **condition: dict) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": action,
        "Principal": {"Federated": provider},
    }
    if condition:
        statement["Condition"] = condition
    return statement


def role_trusting(account: Account, *statements: dict[str, Any], name: str = "sso") -> Role:
    return services.create_role(
        SYSTEM_ACTOR, account, name, trust_policy=federated_trust(*statements)
    )


def really_assumes(caller: Any, role_arn: str, duration: str = "") -> bool:
    """The real AssumeRole, as ``sts.federation`` calls it for a verified assertion or token."""
    with transaction.atomic():
        try:
            assume_role(
                caller.identity(),
                AssumeRoleInput(role_arn, "simulator", duration or None),
                actor=SYSTEM_ACTOR,
                context=dict(caller.claims),
            )
            outcome = True
        except ServiceError:
            outcome = False
        transaction.set_rollback(True)
    return outcome


def failed_check(simulation: Any) -> str | None:
    failed = simulation.failed_check
    return failed.name if failed else None


TRUST = "Trust policy trusts the caller"
SAML_CASES = {
    "unconditional": ({}, {}, "", None),
    "recipient condition met": (
        {"StringEquals": {"saml:recipient": "ACS"}},
        {},
        "",
        None,
    ),
    "another recipient": (
        {"StringEquals": {"saml:recipient": "ACS"}},
        {"recipient": "https://elsewhere.example/acs"},
        "",
        TRUST,
    ),
    "subject condition unmet": ({"StringLike": {"saml:sub": "ops-*"}}, {}, "", TRUST),
    "too long": ({}, {}, "7200", "Duration"),
}


@pytest.mark.parametrize(
    ("condition", "claims", "duration", "failing"), SAML_CASES.values(), ids=list(SAML_CASES)
)
def test_a_saml_simulation_agrees_with_assume_role(
    account_a: Account,
    okta: SAMLProvider,
    condition: dict,
    claims: dict,
    duration: str,
    failing: str | None,
) -> None:
    condition = json.loads(json.dumps(condition).replace('"ACS"', json.dumps(saml.acs_url())))
    role = role_trusting(account_a, allow(okta.arn, **condition))
    caller = provider_user(account_a, okta.arn, "alice@corp.example", **claims)
    simulation = simulate_assume_role(account_a, caller, role.arn, duration=duration)
    assert simulation.succeeds == really_assumes(caller, role.arn, duration)
    assert failed_check(simulation) == failing


OIDC_CASES = {
    "audience met": ({"StringEquals": {"oidc:aud": "app-2"}}, "app-2", "alice", None),
    "first client id by default": ({"StringEquals": {"oidc:aud": "app-2"}}, "", "alice", TRUST),
    "subject met": ({"StringEquals": {"oidc:sub": "alice"}}, "", "alice", None),
    "subject unmet": ({"StringEquals": {"oidc:sub": "alice"}}, "", "bob", TRUST),
}


@pytest.mark.parametrize(
    ("condition", "audience", "subject", "failing"), OIDC_CASES.values(), ids=list(OIDC_CASES)
)
def test_an_oidc_simulation_agrees_with_assume_role(
    account_a: Account,
    github: OIDCProvider,
    condition: dict,
    audience: str,
    subject: str,
    failing: str | None,
) -> None:
    role = role_trusting(account_a, allow(github.arn, **condition))
    caller = provider_user(account_a, github.arn, subject, audience=audience)
    simulation = simulate_assume_role(account_a, caller, role.arn)
    assert simulation.succeeds == really_assumes(caller, role.arn)
    assert failed_check(simulation) == failing


def test_a_statement_for_saml_does_not_trust_an_oidc_user(
    account_a: Account, okta: SAMLProvider, github: OIDCProvider
) -> None:
    statement = allow(okta.arn, action="sts:AssumeRoleWithSAML")
    statement["Principal"]["Federated"] = [okta.arn, github.arn]
    role = role_trusting(account_a, statement)
    saml_user = provider_user(account_a, okta.arn, "alice")
    oidc_user = provider_user(account_a, github.arn, "alice")
    assert simulate_assume_role(account_a, saml_user, role.arn).succeeds
    assert failed_check(simulate_assume_role(account_a, oidc_user, role.arn)) == TRUST


def test_a_trust_of_the_accounts_root_does_not_trust_its_providers_users(
    account_a: Account, okta: SAMLProvider
) -> None:
    role = services.create_role(
        SYSTEM_ACTOR, account_a, "ops", trust_policy=trust_accounts(account_a.pk)
    )
    caller = provider_user(account_a, okta.arn, "alice")
    simulation = simulate_assume_role(account_a, caller, role.arn)
    assert failed_check(simulation) == TRUST
    assert "does not trust alice of SAML identity provider okta" in simulation.failed_check.detail  # type: ignore[union-attr]


def test_each_step_is_explained(account_a: Account, github: OIDCProvider) -> None:
    role = role_trusting(account_a, allow(github.arn))
    caller = provider_user(account_a, github.arn, "alice", audience="app-2")
    steps = {step.name: step for step in simulate_assume_role(account_a, caller, role.arn).checks}
    assert "oidc:aud = app-2, oidc:sub = alice" in steps["Caller kind"].detail
    assert "hold no identity policies" in steps["Identity policy allows sts:AssumeRole"].detail
    assert all(step.status == PASSED for step in steps.values())


def test_another_recipient_is_flagged_as_refused_by_the_acs(
    account_a: Account, okta: SAMLProvider
) -> None:
    role = role_trusting(account_a, allow(okta.arn))
    caller = provider_user(account_a, okta.arn, "alice", recipient="https://elsewhere.example/")
    [_, kind, *_] = simulate_assume_role(account_a, caller, role.arn).checks
    assert f"must name {saml.acs_url()} as its recipient" in kind.detail


def test_the_saml_claims_are_what_a_verified_assertion_carries(
    account_a: Account, okta: SAMLProvider
) -> None:
    caller = provider_user(account_a, okta.arn, "alice")
    assert caller.claims == {
        "saml:recipient": saml.acs_url(),
        "saml:sub": "alice",
        "saml:iss": okta.entity_id,
        "saml:aud": saml.sp_entity_id(),
    }


def test_an_audience_that_is_no_client_id_is_refused(
    account_a: Account, github: OIDCProvider
) -> None:
    with pytest.raises(SimulationError) as refused:
        provider_user(account_a, github.arn, "alice", audience="app-9")
    assert refused.value.field == "audience" and "app-1, app-2" in str(refused.value)


def test_the_provider_is_found_in_any_letter_case(account_a: Account, okta: SAMLProvider) -> None:
    assert find_provider(account_a, okta.arn.replace("okta", "OKTA")) == okta


def message_of(account: Account, arn: str) -> str:
    with pytest.raises(SimulationError) as refused:
        find_provider(account, arn)
    return str(refused.value)


def test_another_accounts_provider_is_answered_like_a_missing_one(
    account_a: Account, account_b: Account
) -> None:
    theirs = providers.create_saml_provider(SYSTEM_ACTOR, account_b, "theirs", metadata=metadata())
    missing = f"acs:ram::{account_b.pk}:saml-provider/nowhere"
    assert message_of(account_a, theirs.arn).replace("theirs", "NAME") == message_of(
        account_a, missing
    ).replace("nowhere", "NAME")
    assert (
        message_of(account_a, theirs.arn) == f"No identity provider {theirs.arn} in this account."
    )


def test_a_role_of_another_account_fails_unread(
    account_a: Account, account_b: Account, okta: SAMLProvider
) -> None:
    role_trusting(account_b, allow(f"acs:ram::{account_a.pk}:saml-provider/okta"), name="b-role")
    caller = provider_user(account_a, okta.arn, "alice")
    existing = simulate_assume_role(account_a, caller, f"acs:ram::{account_b.pk}:role/b-role")
    missing = simulate_assume_role(account_a, caller, f"acs:ram::{account_b.pk}:role/b-none")
    assert [(step.status, step.detail) for step in existing.checks] == [
        (step.status, step.detail) for step in missing.checks
    ]
    assert existing.failed_check is not None and existing.failed_check.status == FAILED
    assert "vouches only for roles of its own account" in existing.failed_check.detail
