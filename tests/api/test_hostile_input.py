"""Hostile input found by fuzzing the API: each gets an Alibaba-shaped 4xx and changes nothing."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from django.test import override_settings

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.errors import InvalidParameter
from iam.models import Policy, Role, User
from iam.rpc import render_error
from sts.models import RoleSession
from tests.api.conftest import system_policy
from tests.api.test_wire import call, signed_query

pytestmark = pytest.mark.django_db
RAM = "2015-05-01"


@pytest.fixture
def admin(account_a, user_a):  # type: ignore[no-untyped-def]
    services.attach_policy(SYSTEM_ACTOR, user_a, system_policy("AdministratorAccess"))
    key = services.create_access_key(SYSTEM_ACTOR, user_a)
    return key.access_key.access_key_id, key.secret


def alibaba_error(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert {"RequestId", "HostId", "Code", "Message"} <= set(body), body
    return response.status_code, body["Code"]


@pytest.mark.parametrize("action", ["ListRoles", "ListUsers", "ListGroups", "ListPolicies"])
@pytest.mark.parametrize("marker", ["AA==", "AGFiYw==", "eA" * 400])
def test_a_marker_we_never_handed_out_is_invalid(client, admin, action: str, marker: str) -> None:  # type: ignore[no-untyped-def]
    response = call(client, action, *admin, version=RAM, Marker=marker)
    assert alibaba_error(response) == (400, "InvalidParameter.Marker")


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("MobilePhone", "1" * 33),
        ("MobilePhone", "\N{GRINNING FACE}" * 40),
        ("Email", "a" * 250 + "@x.io"),
    ],
)
def test_user_fields_beyond_their_length_are_refused(
    client, admin, parameter: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    response = call(
        client, "CreateUser", *admin, version=RAM, UserName="long", **{parameter: value}
    )
    assert alibaba_error(response) == (400, f"InvalidParameter.{parameter}.Length")
    assert not User.objects.filter(name="long").exists()


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("RoleSessionName", "a" * 64 + "\n"),
        ("SourceIdentity", "b" * 64 + "\n"),
        ("RoleSessionName", "ok\n"),
    ],
)
def test_a_trailing_newline_does_not_slip_past_a_pattern(
    client, setup, parameter: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    params = {"RoleArn": role.arn, "RoleSessionName": "fine", parameter: value}
    response = call(client, "AssumeRole", key_id, secret, **params)
    assert alibaba_error(response) == (400, f"InvalidParameter.{parameter}")
    assert not RoleSession.objects.exists()


@pytest.mark.parametrize(
    ("action", "parameter"),
    [("CreateRole", "RoleName"), ("CreateUser", "UserName"), ("CreateGroup", "GroupName")],
)
def test_names_with_a_trailing_newline_are_refused(
    client, admin, account_a, action: str, parameter: str
) -> None:  # type: ignore[no-untyped-def]
    extra = (
        {"AssumeRolePolicyDocument": '{"Version":"1","Statement":[]}'}
        if action == "CreateRole"
        else {}
    )
    response = call(client, action, *admin, version=RAM, **{parameter: "named\n"}, **extra)
    status, code = alibaba_error(response)
    assert status == 400 and code.startswith("InvalidParameter"), code
    assert not Role.objects.filter(name__startswith="named").exists()


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("x" * 65, "Length", 'The parameter - "RoleName" beyond the length limit.'),
        ("bad_name", "InvalidChars", 'The parameter - "RoleName" contains invalid chars.'),
    ],
)
def test_name_errors_keep_alibabas_texts(client, admin, name: str, code: str, message: str) -> None:  # type: ignore[no-untyped-def]
    """The console words these plainly; the API answers what SDK users search for."""
    document = '{"Version":"1","Statement":[]}'
    params = {"RoleName": name, "AssumeRolePolicyDocument": document}
    response = call(client, "CreateRole", *admin, version=RAM, **params)
    assert alibaba_error(response) == (400, f"InvalidParameter.RoleName.{code}")
    assert response.json()["Message"] == message


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_answered_in_the_api_shape(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    body = "x=" + "y" * 4096
    in_query = client.generic(
        "POST",
        "/?" + signed_query("GetCallerIdentity", key_id, secret),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    form_only = client.generic(
        "POST",
        "/",
        signed_query("GetCallerIdentity", key_id, secret) + "&" + body,
        content_type="application/x-www-form-urlencoded",
    )
    for response in (in_query, form_only):
        assert alibaba_error(response) == (413, "InvalidParameter")


def test_a_form_django_will_not_decode_is_still_an_api_call(client, setup) -> None:  # type: ignore[no-untyped-def]
    """Django refuses to read a form declared in another charset than UTF-8; posted to ``/`` it
    is still an API call, read as we read every form (its bytes here are ASCII)."""
    _, key_id, secret = setup
    response = client.generic(
        "POST",
        "/",
        signed_query("GetCallerIdentity", key_id, secret),
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert response.status_code == 200, response.content
    assert response.json()["IdentityType"] == "RAMUser"


# A JSON \\u escape can name half of a UTF-16 surrogate pair, which no UTF-8 encodes: a document
# holding one is refused (and an error that echoes it must still be sent).
LONE_SURROGATE_ACTION = (
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "\\ud800", "Resource": "*"}]}'
)
LONE_SURROGATE_RESOURCE = (
    '{"Version": "1", "Statement": '
    '[{"Effect": "Allow", "Action": "ecs:*", "Resource": "acs:ecs:*:*:instance/\\udfff"}]}'
)


def xml_error(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    root = ElementTree.fromstring(response.content)
    return response.status_code, root.findtext("Code") or ""


@pytest.mark.parametrize("document", [LONE_SURROGATE_ACTION, LONE_SURROGATE_RESOURCE])
def test_a_session_policy_with_a_lone_surrogate_is_refused(client, setup, document: str) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    params = {"RoleArn": role.arn, "RoleSessionName": "surrogate", "Policy": document}
    as_json = call(client, "AssumeRole", key_id, secret, **params)
    as_xml = call(client, "AssumeRole", key_id, secret, Format="XML", **params)
    assert alibaba_error(as_json) == (400, "InvalidParameter.PolicyGrammar")
    assert xml_error(as_xml) == (400, "InvalidParameter.PolicyGrammar")
    assert not RoleSession.objects.exists()


@pytest.mark.parametrize("document", [LONE_SURROGATE_ACTION, LONE_SURROGATE_RESOURCE])
def test_a_policy_document_with_a_lone_surrogate_is_refused(client, admin, document: str) -> None:  # type: ignore[no-untyped-def]
    params = {"PolicyName": "surrogate", "PolicyDocument": document}
    response = call(client, "CreatePolicy", *admin, version=RAM, **params)
    assert alibaba_error(response) == (400, "MalformedPolicyDocument")
    assert "\\ud800" in response.json()["Message"] or "\\udfff" in response.json()["Message"]
    assert not Policy.objects.filter(name="surrogate").exists()


def test_a_trust_policy_with_a_lone_surrogate_is_refused(client, admin) -> None:  # type: ignore[no-untyped-def]
    document = (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", '
        '"Principal": {"Service": ["\\ud800.example"]}}]}'
    )
    params = {"RoleName": "surrogate", "AssumeRolePolicyDocument": document}
    response = call(client, "CreateRole", *admin, version=RAM, Format="XML", **params)
    assert xml_error(response) == (400, "MalformedPolicyDocument")
    assert not Role.objects.filter(name="surrogate").exists()


@pytest.mark.parametrize("response_format", ["json", "xml"])
def test_an_error_text_always_encodes(response_format: str) -> None:
    """Whatever an error echoes (a lone surrogate, control characters XML cannot carry), the
    answer is UTF-8 its client can parse."""
    error = InvalidParameter("InvalidParameter", "bad \ud800 \x01 <&> \ufffe end")
    response = render_error(error, response_format, "request-id", "host")
    text = response.content.decode("utf-8")
    if response_format == "json":
        message = json.loads(text)["Message"]
    else:
        message = ElementTree.fromstring(response.content).findtext("Message") or ""
    assert response.status_code == 400
    assert message.startswith("bad \\ud800 ") and message.endswith(" end"), text
    assert "<&>" in message
