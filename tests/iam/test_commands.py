"""The management commands print one JSON object and refuse bad input with a clear error."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from iam.crypto import decrypt_secret
from iam.models import AccessKey, Account, User

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_createaccount_prints_id_and_alias() -> None:
    output = run("createaccount", "acme", "--email", "root@acme.example")
    assert set(output) == {"AccountId", "Alias"}
    assert Account.objects.get(pk=output["AccountId"]).alias == "acme"


def test_createaccount_with_access_key_prints_a_working_secret() -> None:
    output = run("createaccount", "acme", "--email", "root@acme.example", "--access-key")
    key = AccessKey.objects.get(pk=output["AccessKeyId"])
    assert key.user.kind == User.Kind.ROOT
    assert decrypt_secret(key.secret_ciphertext) == output["AccessKeySecret"]


def test_createaccount_with_password_lets_root_log_on() -> None:
    run("createaccount", "acme", "--email", "root@acme.example", "--password", "Root-pass-1")
    assert User.objects.get(email="root@acme.example").check_password("Root-pass-1")


def test_createaccount_refuses_a_bad_alias_and_creates_nothing() -> None:
    with pytest.raises(CommandError, match=r"InvalidParameter\.AccountAlias\.Format"):
        run("createaccount", "No", "--email", "root@acme.example")
    assert not Account.objects.exists()


def test_createservice_prints_name_and_key() -> None:
    output = run("createservice", "oss.example.internal")
    assert output["Service"] == "oss.example.internal"
    assert output["AccessKeyId"].startswith("LTAI")


def test_createservice_refuses_a_duplicate() -> None:
    run("createservice", "oss.example.internal")
    with pytest.raises(CommandError, match=r"EntityAlreadyExists\.Service"):
        run("createservice", "oss.example.internal")
