"""Trust policies and federated callers: a user a SAML or OIDC identity provider vouches for is
trusted by statements that name that provider under ``Federated``."""

from __future__ import annotations

from typing import Any

import pytest

from iam.policy import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, TrustPrincipal, trust_allows
from tests.policy.builders import ACCOUNT, OTHER_ACCOUNT, policy

CORP_SAML = f"acs:ram::{ACCOUNT}:saml-provider/corp"
CORP_OIDC = f"acs:ram::{ACCOUNT}:oidc-provider/corp"
SAML_USER = TrustPrincipal("federated", ACCOUNT, provider=CORP_SAML)
OIDC_USER = TrustPrincipal("federated", ACCOUNT, provider=CORP_OIDC)
OIDC_CONTEXT = {"oidc:iss": "https://issuer.example.com", "oidc:aud": "app", "oidc:sub": "alice"}


def federated(
    *providers: str, action: Any = "sts:AssumeRole", effect: str = "Allow", **elements: Any
) -> dict[str, Any]:
    return {
        "Effect": effect,
        "Action": action,
        "Principal": {"Federated": list(providers)},
        **elements,
    }


def effect(
    statements: list[dict[str, Any]], caller: TrustPrincipal, context: dict | None = None
) -> str:
    return trust_allows(policy(*statements), caller, context or {}).effect


@pytest.mark.parametrize(
    "written",
    [CORP_SAML, f"acs:ram::{ACCOUNT}:saml-provider/Corp", f"acs:ram::{ACCOUNT}:saml-provider/CORP"],
)
def test_the_provider_arn_matches_in_any_letter_case(written: str) -> None:
    assert effect([federated(written)], SAML_USER) == ALLOW


def test_another_provider_of_the_same_account_is_not_trusted() -> None:
    other = f"acs:ram::{ACCOUNT}:saml-provider/partner"
    assert effect([federated(other)], SAML_USER) == IMPLICIT_DENY


def test_the_same_name_in_another_account_is_another_provider() -> None:
    assert effect([federated(f"acs:ram::{OTHER_ACCOUNT}:saml-provider/corp")], SAML_USER) == (
        IMPLICIT_DENY
    )


def test_an_oidc_provider_of_the_same_name_is_another_provider() -> None:
    assert effect([federated(CORP_SAML)], OIDC_USER) == IMPLICIT_DENY


def test_a_ram_principal_statement_does_not_trust_federated_callers() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": f"acs:ram::{ACCOUNT}:root"},
    }
    assert effect([statement], SAML_USER) == IMPLICIT_DENY


def test_an_assume_role_with_saml_statement_trusts_a_saml_caller() -> None:
    statement = federated(CORP_SAML, CORP_OIDC, action="sts:AssumeRoleWithSAML")
    assert effect([statement], SAML_USER) == ALLOW


def test_an_assume_role_with_saml_statement_does_not_trust_an_oidc_caller() -> None:
    statement = federated(CORP_SAML, CORP_OIDC, action="sts:AssumeRoleWithSAML")
    assert effect([statement], OIDC_USER, OIDC_CONTEXT) == IMPLICIT_DENY


def test_an_assume_role_with_oidc_statement_trusts_only_an_oidc_caller() -> None:
    statement = federated(CORP_SAML, CORP_OIDC, action="sts:AssumeRoleWithOIDC")
    assert effect([statement], OIDC_USER, OIDC_CONTEXT) == ALLOW
    assert effect([statement], SAML_USER) == IMPLICIT_DENY


@pytest.mark.parametrize("caller", [SAML_USER, OIDC_USER], ids=["saml", "oidc"])
def test_an_assume_role_statement_trusts_both_kinds(caller: TrustPrincipal) -> None:
    statement = federated(CORP_SAML, CORP_OIDC, action="sts:AssumeRole")
    assert effect([statement], caller) == ALLOW


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("alice", ALLOW), ("ALICE", IMPLICIT_DENY), ("mallory", IMPLICIT_DENY)],
)
def test_a_condition_on_oidc_sub_decides(subject: str, expected: str) -> None:
    statement = federated(
        CORP_OIDC, Condition={"StringEquals": {"oidc:sub": "alice", "oidc:aud": "app"}}
    )
    context = {**OIDC_CONTEXT, "oidc:sub": subject}
    assert effect([statement], OIDC_USER, context) == expected


def test_a_missing_oidc_sub_fails_its_condition() -> None:
    statement = federated(CORP_OIDC, Condition={"StringEquals": {"oidc:sub": "alice"}})
    assert effect([statement], OIDC_USER, {"oidc:aud": "app"}) == IMPLICIT_DENY


def test_a_saml_recipient_condition_decides() -> None:
    acs = "https://ram.example.com/sso/saml/acs"
    statement = federated(CORP_SAML, Condition={"StringEquals": {"saml:recipient": acs}})
    assert effect([statement], SAML_USER, {"saml:recipient": acs}) == ALLOW
    assert effect([statement], SAML_USER, {"saml:recipient": "https://evil.example"}) == (
        IMPLICIT_DENY
    )


def test_an_explicit_deny_wins_over_the_allow() -> None:
    statements = [
        federated(CORP_OIDC),
        federated(CORP_OIDC, effect="Deny", Condition={"StringLike": {"oidc:sub": "contractor-*"}}),
    ]
    decision = trust_allows(
        policy(*statements), OIDC_USER, {**OIDC_CONTEXT, "oidc:sub": "contractor-7"}
    )
    assert decision.effect == EXPLICIT_DENY
    assert [reason.statement_index for reason in decision.reasons] == [1]


def test_a_deny_on_the_federation_action_wins_over_an_assume_role_allow() -> None:
    statements = [
        federated(CORP_SAML, action="sts:AssumeRole"),
        federated(CORP_SAML, action="sts:AssumeRoleWithSAML", effect="Deny"),
    ]
    assert effect(statements, SAML_USER) == EXPLICIT_DENY


def test_the_deny_spares_other_subjects() -> None:
    statements = [
        federated(CORP_OIDC),
        federated(CORP_OIDC, effect="Deny", Condition={"StringLike": {"oidc:sub": "contractor-*"}}),
    ]
    assert effect(statements, OIDC_USER, OIDC_CONTEXT) == ALLOW
