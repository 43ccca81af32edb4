"""Trust policies in words, and the role type they give."""

from __future__ import annotations

import json

from console import trust_words
from iam.demo import trust_accounts, trust_service

HERE = "1111111111111111"
THERE = "2222222222222222"
ALIASES = {THERE: "company2"}


def words(document: str) -> list[str]:
    actors = trust_words.trusted_actors(document)
    return [trust_words.actor_words(actor, HERE, ALIASES) for actor in actors]


def sentences(document: str) -> list[str]:
    actors = trust_words.trusted_actors(document)
    return [trust_words.actor_sentence(actor, HERE, ALIASES) for actor in actors]


def ram(*principals: str) -> str:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": principals}}
    return json.dumps({"Version": "1", "Statement": [statement]})


def test_accounts_in_words() -> None:
    document = trust_accounts(HERE, THERE, "9999999999999999")
    assert words(document) == [
        "Current account",
        f"Account company2 ({THERE})",
        "Account 9999999999999999 (not hosted here)",
    ]


def test_users_and_roles_in_words() -> None:
    document = ram(f"acs:ram::{THERE}:user/alice", f"acs:ram::{THERE}:role/x")
    assert words(document) == ["User alice of account company2", "Role x of account company2"]


def test_service_role() -> None:
    actors = trust_words.trusted_actors(trust_service("oss.example.internal"))
    assert trust_words.role_type(actors) == "Service role"
    assert words(trust_service("oss.example.internal")) == ["Service oss.example.internal"]


def test_user_role() -> None:
    actors = trust_words.trusted_actors(trust_accounts(HERE))
    assert trust_words.role_type(actors) == "User role"


def test_sentences_for_details() -> None:
    assert sentences(trust_accounts(THERE)) == ["Users of account company2 who hold sts:AssumeRole"]


def test_unreadable_document_has_no_actors() -> None:
    assert trust_words.trusted_actors("{not json") == []


def test_generated_document_trusts_the_account_root() -> None:
    document = json.loads(trust_words.trust_policy_document(account_id=THERE))
    assert document["Statement"][0]["Principal"] == {"RAM": [f"acs:ram::{THERE}:root"]}
