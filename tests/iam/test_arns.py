"""ARNs: every builder gives exactly the string the code wrote by hand before ``iam.arns`` (they are
on the wire and in stored audit events), ``parse_arn`` reads back what they build and nothing
malformed, and the input patterns keep their old grammar."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iam import arns
from iam.arns import RamArn, parse_arn, parse_principal
from iam.models import Account, Group, Policy, Role, Service, User

ACCOUNT = "1234567890123456"
OTHER = "9999999999999999"


# --- building: byte for byte what was written by hand before ------------------------------------


def test_builders_write_the_old_strings() -> None:
    a = ACCOUNT
    assert [
        arns.root_arn(a),
        arns.user_arn(a, "Alice.Smith"),
        arns.group_arn(a, "Dev-Ops"),
        arns.role_arn(a, "Admin.Role"),
        arns.policy_arn(a, "ReadOnly"),
        arns.system_policy_arn("AdministratorAccess"),
        arns.role_session_arn(a, "Admin.Role", "alice@console"),
        arns.assumed_role_user_arn(a, "Admin.Role", "alice@console"),
        arns.service_arn("oss.example.internal"),
        arns.ram_arn(a, arns.ANY),
        arns.role_arn(a, arns.ANY),
    ] == [
        f"acs:ram::{a}:root",
        f"acs:ram::{a}:user/Alice.Smith",
        f"acs:ram::{a}:group/Dev-Ops",
        f"acs:ram::{a}:role/{'Admin.Role'.lower()}",
        f"acs:ram::{a}:policy/ReadOnly",
        "acs:ram::system:policy/AdministratorAccess",
        f"acs:ram::{a}:assumed-role/{'Admin.Role'.lower()}/alice@console",
        f"acs:ram::{a}:role/{'Admin.Role'.lower()}/alice@console",
        "acs:ram::service:oss.example.internal",
        f"acs:ram::{a}:*",
        f"acs:ram::{a}:role/*",
    ]


def test_models_answer_the_same_arns_as_before() -> None:
    a = ACCOUNT
    account = Account(id=a, alias="company-a")
    root = User(account_id=a, kind=User.Kind.ROOT, email="root@a.example")
    user = User(account_id=a, kind=User.Kind.RAM, name="Alice")
    system = Policy(name="AdministratorAccess", policy_type=Policy.Type.SYSTEM)
    custom = Policy(account_id=a, name="ReadOnly", policy_type=Policy.Type.CUSTOM)
    assert [
        account.root_arn,
        root.arn,
        user.arn,
        Group(account_id=a, name="Dev").arn,
        Role(account_id=a, name="Admin").arn,
        system.arn_for(a),
        custom.arn_for(a),
        Service(name="oss.example.internal").arn,
    ] == [
        f"acs:ram::{a}:root",
        f"acs:ram::{a}:root",
        f"acs:ram::{a}:user/Alice",
        f"acs:ram::{a}:group/Dev",
        f"acs:ram::{a}:role/admin",
        "acs:ram::system:policy/AdministratorAccess",
        f"acs:ram::{a}:policy/ReadOnly",
        "acs:ram::service:oss.example.internal",
    ]


def test_builders_keep_unvalidated_names_as_given() -> None:
    # The API authorizes on the requested name before the services validate it.
    assert arns.user_arn(ACCOUNT, "a/b:c d") == f"acs:ram::{ACCOUNT}:user/a/b:c d"


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "parsed"),
    [
        (arns.root_arn(ACCOUNT), RamArn("root", ACCOUNT)),
        (arns.user_arn(ACCOUNT, "alice"), RamArn("user", ACCOUNT, "alice")),
        (arns.group_arn(ACCOUNT, "dev"), RamArn("group", ACCOUNT, "dev")),
        (arns.role_arn(ACCOUNT, "Admin"), RamArn("role", ACCOUNT, "admin")),
        (arns.policy_arn(ACCOUNT, "ReadOnly"), RamArn("policy", ACCOUNT, "ReadOnly")),
        (arns.system_policy_arn("ReadOnly"), RamArn("policy", "system", "ReadOnly")),
        (
            arns.role_session_arn(ACCOUNT, "Admin", "s1"),
            RamArn("assumed-role", ACCOUNT, "admin", "s1"),
        ),
        (
            arns.assumed_role_user_arn(ACCOUNT, "Admin", "s1"),
            RamArn("role", ACCOUNT, "admin", "s1"),
        ),
        (arns.service_arn("oss.example.internal"), RamArn("service", "", "oss.example.internal")),
        (arns.user_arn(ACCOUNT, arns.ANY), RamArn("user", ACCOUNT, "*")),
        ("acs:ram::*:root", RamArn("root", "*")),
        (arns.saml_provider_arn(ACCOUNT, "corp"), RamArn("saml-provider", ACCOUNT, "corp")),
        (arns.oidc_provider_arn(ACCOUNT, "corp"), RamArn("oidc-provider", ACCOUNT, "corp")),
    ],
)
def test_it_reads_back_every_kind(arn: str, parsed: RamArn) -> None:
    assert parse_arn(arn) == parsed
    assert str(parsed) == arn


def test_it_keeps_a_written_role_name_as_written() -> None:
    assert parse_arn(f"acs:ram::{ACCOUNT}:role/Admin") == RamArn("role", ACCOUNT, "Admin")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "*",
        "acs:ram::",
        f"acs:ram::{ACCOUNT}",
        f"acs:ram::{ACCOUNT}:",
        f"acs:ram::{ACCOUNT}:*",
        f"acs:ram::{ACCOUNT}:user",
        f"acs:ram::{ACCOUNT}:user/",
        f"acs:ram::{ACCOUNT}:user//",
        f"acs:ram::{ACCOUNT}:user/a/b",
        f"acs:ram::{ACCOUNT}:group/a/b",
        f"acs:ram::{ACCOUNT}:policy/a/b",
        f"acs:ram::{ACCOUNT}:role/a/b/c",
        f"acs:ram::{ACCOUNT}:role/a/",
        f"acs:ram::{ACCOUNT}:assumed-role/a",
        f"acs:ram::{ACCOUNT}:assumed-role/a/b/c",
        f"acs:ram::{ACCOUNT}:widget/a",
        f"acs:ram::{ACCOUNT}:root/a",
        f"acs:ram::{ACCOUNT}:root ",
        f" acs:ram::{ACCOUNT}:root",
        f"ACS:RAM::{ACCOUNT}:root",
        f"acs:ram::{ACCOUNT}:User/alice",
        f"acs:ram:cn-hangzhou:{ACCOUNT}:user/alice",
        f"acs:ecs::{ACCOUNT}:instance/i-1",
        "acs:ram::company-a:user/alice",
        "acs:ram::١٢٣٤:root",  # digits, but not ASCII ones
        "acs:ram::system:root",
        "acs:ram::system:user/alice",
        "acs:ram::system:assumed-role/a/b",
        "acs:ram::service:",
        "acs:ram::service:a/b",
        f"acs:ram::{ACCOUNT}:saml-provider/idp/alice",
        f"acs:ram::{ACCOUNT}:oidc-provider/",
    ],
)
def test_it_reads_nothing_from_a_malformed_arn(text: str) -> None:
    assert parse_arn(text) is None


NAMES = st.text(st.characters(exclude_characters="/"), min_size=1, max_size=20)
ACCOUNT_IDS = st.from_regex(r"[0-9]{1,16}", fullmatch=True) | st.just("*")


@given(ACCOUNT_IDS, NAMES, NAMES)
def test_every_built_arn_reads_back(account_id: str, name: str, session: str) -> None:
    built = {
        arns.user_arn(account_id, name): RamArn("user", account_id, name),
        arns.group_arn(account_id, name): RamArn("group", account_id, name),
        arns.role_arn(account_id, name): RamArn("role", account_id, name.lower()),
        arns.policy_arn(account_id, name): RamArn("policy", account_id, name),
        arns.role_session_arn(account_id, name, session): RamArn(
            "assumed-role", account_id, name.lower(), session
        ),
    }
    assert {arn: parse_arn(arn) for arn in built} == built


@given(st.text(max_size=60) | st.text(alphabet="acsrm:/*0123456789userolpiy-", max_size=40))
def test_what_it_reads_is_exactly_what_was_written(text: str) -> None:
    parsed = parse_arn(text)
    assert parsed is None or str(parsed) == text


# --- the input patterns -------------------------------------------------------------------------


def test_the_role_arn_parameter_takes_16_ascii_digits_and_a_role_name_in_any_case() -> None:
    match = arns.ROLE_ARN_RE.match(f"ACS:RAM::{ACCOUNT}:ROLE/Admin.Role-1")
    assert match is not None
    assert (match.group(1), match.group(2)) == (ACCOUNT, "Admin.Role-1")


@pytest.mark.parametrize(
    "text",
    [
        f"acs:ram::{ACCOUNT}:role/admin\n",  # \Z, not $
        f"acs:ram::{ACCOUNT[1:]}:role/admin",
        "acs:ram::١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦:role/admin",
        f"acs:ram::{ACCOUNT}:role/admin_role",
        f"acs:ram::{ACCOUNT}:role/" + "a" * 65,
        f"acs:ram::{ACCOUNT}:role/admin/session",
        f"acs:ram::{ACCOUNT}:user/admin",
    ],
)
def test_the_role_arn_parameter_refuses(text: str) -> None:
    assert arns.ROLE_ARN_RE.match(text) is None


def test_the_patterns_keep_their_old_grammar() -> None:
    assert (arns.ROLE_ARN_RE.pattern, arns.ROLE_ARN_RE.flags & (re.IGNORECASE | re.ASCII)) == (
        r"^acs:ram::(?P<account>\d{16}):role/(?P<name>[A-Za-z0-9.-]{1,64})\Z",
        re.IGNORECASE | re.ASCII,
    )
    assert arns.RAM_PRINCIPAL_PATTERN.pattern == (
        r"acs:ram::(?P<account>\d+|\*):(?:root|(?P<form>user|role)/(?P<name>[A-Za-z0-9._@-]{1,64}))"
    )
    assert arns.FEDERATED_PRINCIPAL_PATTERN.pattern == (
        r"acs:ram::(?P<account>\d+):(?P<kind>saml-provider|oidc-provider)"
        r"/(?P<name>[A-Za-z0-9._-]{1,128})"
    )


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("acs:ram::123:root", RamArn("root", "123")),
        ("acs:ram::*:root", RamArn("root", "*")),
        ("acs:ram::123:user/alice@x", RamArn("user", "123", "alice@x")),
        ("acs:ram::123:role/Admin", RamArn("role", "123", "Admin")),
        ("acs:ram::123:group/dev", None),
        ("acs:ram::123:user/a*", None),
        ("acs:ram::123:role/a/b", None),
        ("acs:ram::123:root\n", None),
        ("acs:ram::123:saml-provider/idp", None),
    ],
)
def test_a_trust_principal_reads_as_root_user_or_role(text: str, parsed: RamArn | None) -> None:
    assert parse_principal(text) == parsed


@pytest.mark.parametrize(
    ("resource", "account"),
    [
        (f"acs:ram::{ACCOUNT}:role/admin", ACCOUNT),
        ("acs:ecs:cn-hangzhou:42:instance/i-1", "42"),
        ("acs:oss::*:bucket/a:b", "*"),
        ("acs:ram::system:policy/ReadOnly", "system"),
        ("acs:ram::service:oss.example.internal", "service"),
        ("acs:oss:::bucket", None),
        ("acs:ram::123", None),
        ("arn:aws:iam::123:user/x", None),
        ("*", None),
    ],
)
def test_the_account_of_any_resource(resource: str, account: str | None) -> None:
    assert arns.resource_account(resource) == account
