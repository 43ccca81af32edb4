"""A refused console form says why in the page's language; the RAM API keeps Alibaba's English.

The services raise one error for both doors: ``plain`` is translated as it is raised (the console
page is Chinese, the API's front door forces English), ``message`` is always Alibaba's own text.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import translation

from iam import errors, services
from iam.audit import SYSTEM_ACTOR
from iam.models import Account, Policy, Role, User
from tests.api.test_wire import call
from tests.console.test_chinese import english_words

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
HTMX = {"HTTP_HX_REQUEST": "true"}
CJK = re.compile(r"[\u4e00-\u9fff]")
WIZARD = {"role_type": "user", "trust_kind": "current", "step": "4"}


class MarkedText(HTMLParser):
    """The text inside the elements whose class or data-testid is ``mark``."""

    def __init__(self, mark: str) -> None:
        super().__init__(convert_charrefs=True)
        self.mark = mark
        self.depth = 0
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        marked = self.mark in (values.get("class") or "").split() or (
            values.get("data-testid") == self.mark
        )
        if self.depth or marked:
            self.depth += 1
            if marked and self.depth == 1:
                self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.found[-1] += data


def marked(response, mark: str = "field-error") -> str:  # type: ignore[no-untyped-def]
    parser = MarkedText(mark)
    parser.feed(response.content.decode())
    return " ".join(text.strip() for text in parser.found)


def assert_chinese(text: str, *names: str) -> None:
    """Chinese, and no English word left once the names the user typed are put aside."""
    assert CJK.search(text), f"no Chinese in {text!r}"
    assert not english_words(text, names), text


def trust(account: Account) -> str:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{account.pk}:root"]},
    }
    return json.dumps({"Version": "1", "Statement": [statement]})


@pytest.fixture
def chinese_admin(admin_a) -> Client:  # type: ignore[no-untyped-def]
    client = Client(**CHINESE)
    client.force_login(admin_a)
    return client


def test_a_taken_role_name_is_refused_in_chinese(chinese_admin, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "ops", trust_policy=trust(account_a))
    response = chinese_admin.post("/roles/_new/", {**WIZARD, "role_name": "OPS"}, **HTMX)
    assert response.status_code == 200
    assert marked(response) == "已存在同名的角色。"


def test_a_too_long_description_is_refused_in_chinese(chinese_admin) -> None:  # type: ignore[no-untyped-def]
    fields = {**WIZARD, "role_name": "ops", "description": "d" * 2000}
    response = chinese_admin.post("/roles/_new/", fields, **HTMX)
    assert marked(response) == "备注最多 1024 个字符。"
    assert not Role.objects.filter(name="ops").exists()


def test_an_invalid_max_session_duration_is_refused_in_chinese(chinese_admin) -> None:  # type: ignore[no-untyped-def]
    fields = {**WIZARD, "role_name": "ops", "max_session_duration": "60"}
    response = chinese_admin.post("/roles/_new/", fields, **HTMX)
    assert_chinese(marked(response))


def test_a_role_name_with_bad_characters_lists_the_allowed_ones_in_chinese(chinese_admin) -> None:  # type: ignore[no-untyped-def]
    response = chinese_admin.post("/roles/_new/", {**WIZARD, "role_name": "a_b"}, **HTMX)
    assert marked(response) == "只能包含英文字母、数字、连字符（-）和英文句点（.）。"


def test_a_bad_user_name_is_refused_in_chinese(chinese_admin) -> None:  # type: ignore[no-untyped-def]
    response = chinese_admin.post("/users/new/", {"user_name": "bad name!"})
    assert_chinese(marked(response), "bad name!")
    assert not User.objects.filter(name="bad name!").exists()


def test_a_group_created_twice_is_refused_in_chinese(chinese_admin) -> None:  # type: ignore[no-untyped-def]
    chinese_admin.post("/groups/new/", {"group_name": "qa"})
    response = chinese_admin.post("/groups/new/", {"group_name": "QA"})
    assert response.status_code == 200
    assert marked(response) == "已存在同名的用户组。"


def test_deleting_a_role_with_policies_says_why_not_in_chinese(chinese_admin, account_a) -> None:  # type: ignore[no-untyped-def]
    role = services.create_role(SYSTEM_ACTOR, account_a, "ops", trust_policy=trust(account_a))
    policy = Policy.objects.get(account__isnull=True, name="ReadOnlyAccess")
    services.attach_policy(SYSTEM_ACTOR, role, policy)
    response = chinese_admin.post("/roles/ops/delete/")
    assert_chinese(marked(response, "delete-conflict"))
    assert Role.objects.filter(pk=role.pk).exists()


def test_another_accounts_role_is_404_in_chinese(chinese_admin, account_b) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_b, "theirs", trust_policy=trust(account_b))
    response = chinese_admin.get("/roles/theirs/")
    assert response.status_code == 404
    assert_chinese(marked(response, "card"))


def test_a_refusal_the_api_words_alone_has_chinese_words_in_the_console(account_a) -> None:  # type: ignore[no-untyped-def]
    root = User.objects.get(account=account_a, kind=User.Kind.ROOT)
    with translation.override("zh-hans"), pytest.raises(errors.InvalidParameter) as refused:
        services.delete_user(SYSTEM_ACTOR, root)
    assert refused.value.plain == "不能删除主账号。"
    assert refused.value.message == "The root identity cannot be deleted."


def test_the_api_keeps_alibabas_english_for_the_same_refusal(admin_a, account_a) -> None:  # type: ignore[no-untyped-def]
    services.create_role(SYSTEM_ACTOR, account_a, "ops", trust_policy=trust(account_a))
    key = services.create_access_key(SYSTEM_ACTOR, admin_a)
    client = Client(**CHINESE)
    params = {"RoleName": "OPS", "AssumeRolePolicyDocument": trust(account_a)}
    response = call(
        client,
        "CreateRole",
        key.access_key.access_key_id,
        key.secret,
        version="2015-05-01",
        **params,
    )
    body = response.json()
    assert response.status_code == 409
    assert (body["Code"], body["Message"]) == (
        "EntityAlreadyExists.Role",
        "The role does already EXIST.",
    )
