"""The policy pages in Chinese beyond the demo's: a custom policy's versions, the new-version page,
the editor's live check (the evaluator's errors and warnings), system policy descriptions; and the
same errors in English for the API."""

from __future__ import annotations

import json

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import Policy
from tests.api.conftest import system_policy
from tests.api.test_wire import call
from tests.console.test_chinese import assert_chinese

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
PLAIN = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
SUSPICIOUS = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "ecs:Describe*",
            "Resource": "*",
            "Condition": {"StringEquals": {"acs:SecureTransport": "true"}},
        }
    ],
}


@pytest.fixture
def chinese(admin_a) -> Client:  # type: ignore[no-untyped-def]
    client = Client(**CHINESE)
    client.force_login(admin_a)
    return client


@pytest.fixture
def versioned(account_a) -> Policy:  # type: ignore[no-untyped-def]
    policy = services.create_policy(
        SYSTEM_ACTOR, account_a, "ecs-read", document=json.dumps(PLAIN), description="ECS only"
    )
    services.create_policy_version(
        SYSTEM_ACTOR, policy, document=json.dumps(SUSPICIOUS), set_as_default=True
    )
    return policy


def validate(client: Client, document: str) -> str:
    return client.post(reverse("console:policy_validate"), {"document": document}).content.decode()


def test_a_custom_policy_with_versions_reads_in_chinese(chinese, versioned) -> None:  # type: ignore[no-untyped-def]
    response = chinese.get(
        reverse("console:policy_detail", args=["Custom", "ecs-read"]), {"version": "v1"}
    )
    assert response.status_code == 200
    assert "该版本未生效" in response.content.decode()
    assert_chinese(response.content.decode())


def test_the_new_version_page_reads_in_chinese(chinese, versioned) -> None:  # type: ignore[no-untyped-def]
    url = reverse("console:policy_version_create", args=["Custom", "ecs-read"])
    page = chinese.get(url).content.decode()
    assert "保存后的生效版本" in page
    assert_chinese(page)


def test_the_live_check_names_a_json_error_in_chinese(chinese) -> None:  # type: ignore[no-untyped-def]
    answer = validate(chinese, '{"Version": "1",\n "Statement": [}')
    assert "位于第 2 行第 16 列" in answer
    assert "此处应为一个值" in answer
    assert_chinese(answer)


def test_the_live_check_names_a_grammar_error_at_its_place_in_chinese(chinese) -> None:  # type: ignore[no-untyped-def]
    answer = validate(chinese, json.dumps({"Version": "1", "Statement": [{"Effect": 1}]}))
    assert "Statement[0].Effect" in answer
    assert '必须为 "Allow" 或 "Deny"' in answer.replace("&quot;", '"')
    assert_chinese(answer)


def test_the_live_check_gives_warnings_in_chinese(chinese) -> None:  # type: ignore[no-untyped-def]
    answer = validate(chinese, json.dumps(SUSPICIOUS))
    assert "是布尔值类型的条件关键字" in answer
    assert_chinese(answer)


def test_the_live_check_stays_english_without_a_chinese_browser(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    answer = validate(client, '{"Version": "1",\n "Statement": [}')
    assert "Invalid JSON at line 2, column 16: Expecting value" in answer


def test_system_descriptions_are_translated_and_custom_ones_kept(account_a) -> None:  # type: ignore[no-untyped-def]
    custom = services.create_policy(
        SYSTEM_ACTOR,
        account_a,
        "mine",
        document=json.dumps(PLAIN),
        description="Full access to Elastic Compute Service (ECS).",
    )
    template = Template(
        "{% load policy_text %}{{ system|policy_description }}|{{ custom|policy_description }}"
    )
    with translation.override("zh-hans"):
        shown = template.render(
            Context({"system": system_policy("AliyunECSFullAccess"), "custom": custom})
        )
    system_text, custom_text = shown.split("|")
    assert system_text.startswith("管理云服务器服务")
    assert custom_text == "Full access to Elastic Compute Service (ECS)."


def test_the_api_names_policy_errors_in_english_whatever_the_browser_asks(
    account_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("AdministratorAccess"))
    key = services.create_access_key(SYSTEM_ACTOR, user_a)
    params = {"PolicyName": "broken", "PolicyDocument": '{"Version": "1", "Statement": [}'}
    response = call(
        Client(**CHINESE),
        "CreatePolicy",
        key.access_key.access_key_id,
        key.secret,
        version="2015-05-01",
        **params,
    )
    assert response.json()["Code"] == "MalformedPolicyDocument"
    assert "Invalid JSON at line 1, column 32: Expecting value" in response.json()["Message"]
