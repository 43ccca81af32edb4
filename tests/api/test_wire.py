"""Wire-level behaviour with hand-signed requests through Django's test client: replay, clock
skew, tokens, formats, services, malformed input."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Policy, Role
from sts.models import RoleSession, UsedNonce
from sts.signing import sign_v2

pytestmark = pytest.mark.django_db


def trust(principal: dict) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}],
        }
    )


def call(
    client,
    action: str,
    key_id: str,
    secret: str,
    *,
    version: str = "2015-04-01",  # type: ignore[no-untyped-def]
    token: str | None = None,
    nonce: str | None = None,
    when: datetime | None = None,
    method: str = "POST",
    **params: str,
):
    query = signed_query(
        action,
        key_id,
        secret,
        version=version,
        token=token,
        nonce=nonce,
        when=when,
        method=method,
        **params,
    )
    if method == "GET":
        return client.get("/?" + query)
    return client.generic("POST", "/?" + query)


def signed_query(
    action: str,
    key_id: str,
    secret: str,
    *,
    version: str = "2015-04-01",
    token: str | None = None,
    nonce: str | None = None,
    when: datetime | None = None,
    method: str = "POST",
    **params: str,
) -> str:
    """A V2-signed query string (fresh nonce unless given)."""
    signed = sign_v2(
        method,
        {"Action": action, "Version": version, "Format": "JSON", **params},
        key_id,
        secret,
        nonce=nonce or secrets.token_hex(16),
        timestamp=when or datetime.now(UTC),
        security_token=token,
    )
    return urlencode(signed)


def assume(client, role: Role, key_id: str, secret: str, **params: str) -> dict:  # type: ignore[no-untyped-def]
    response = call(
        client, "AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="wire", **params
    )
    assert response.status_code == 200, response.content
    return response.json()["Credentials"]


def test_a_replayed_nonce_is_refused(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    first = call(client, "GetCallerIdentity", key_id, secret, nonce="same-nonce")
    replay = call(client, "GetCallerIdentity", key_id, secret, nonce="same-nonce")
    assert first.status_code == 200
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")


def test_a_replayed_nonce_is_refused_with_role_credentials(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    credentials = assume(client, role, key_id, secret)
    sts_key = (credentials["AccessKeyId"], credentials["AccessKeySecret"])
    token = credentials["SecurityToken"]
    first = call(client, "GetCallerIdentity", *sts_key, token=token, nonce="role-nonce")
    replay = call(client, "GetCallerIdentity", *sts_key, token=token, nonce="role-nonce")
    assert first.status_code == 200, first.content
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    # The same nonce under another access key is a different nonce.
    assert call(client, "GetCallerIdentity", key_id, secret, nonce="role-nonce").status_code == 200


@pytest.mark.parametrize("skew", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_a_skewed_timestamp_is_refused(client, setup, skew: timedelta) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    response = call(client, "GetCallerIdentity", key_id, secret, when=datetime.now(UTC) + skew)
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_get_requests_and_form_bodies_work(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    by_get = call(client, "GetCallerIdentity", key_id, secret, method="GET")
    signed = sign_v2(
        "POST",
        {"Action": "GetCallerIdentity", "Version": "2015-04-01"},
        key_id,
        secret,
        nonce=secrets.token_hex(16),
        timestamp=datetime.now(UTC),
    )
    by_form = client.post(
        "/", data=urlencode(signed), content_type="application/x-www-form-urlencoded"
    )
    assert by_get.json()["IdentityType"] == "RAMUser"
    assert by_form.json()["IdentityType"] == "RAMUser"


def test_xml_format(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    signed = sign_v2(
        "POST",
        {"Action": "GetCallerIdentity", "Version": "2015-04-01", "Format": "XML"},
        key_id,
        secret,
        nonce=secrets.token_hex(16),
        timestamp=datetime.now(UTC),
    )
    response = client.generic("POST", "/?" + urlencode(signed))
    assert response["Content-Type"] == "text/xml;charset=utf-8"
    assert response.content.decode().count("<GetCallerIdentityResponse>") == 1
    assert b"<IdentityType>RAMUser</IdentityType>" in response.content


def test_xml_errors_use_the_error_root(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, _ = setup
    signed = sign_v2(
        "POST",
        {"Action": "GetCallerIdentity", "Version": "2015-04-01", "Format": "XML"},
        key_id,
        "wrong",
        nonce=secrets.token_hex(16),
        timestamp=datetime.now(UTC),
    )
    response = client.generic("POST", "/?" + urlencode(signed))
    assert response.status_code == 400
    assert (
        b"<Error>" in response.content and b"<Code>SignatureDoesNotMatch</Code>" in response.content
    )


def test_a_tampered_token_is_malformed(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    creds = assume(client, role, key_id, secret)
    token = creds["SecurityToken"]
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    response = call(
        client, "GetCallerIdentity", creds["AccessKeyId"], creds["AccessKeySecret"], token=tampered
    )
    assert response.json()["Code"] == "InvalidSecurityToken.Malformed"


def test_a_token_with_another_access_key_is_a_mismatch(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    first = assume(client, role, key_id, secret)
    second = assume(client, role, key_id, secret)
    response = call(
        client,
        "GetCallerIdentity",
        second["AccessKeyId"],
        second["AccessKeySecret"],
        token=first["SecurityToken"],
    )
    assert response.json()["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"


def test_an_sts_key_without_token(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    creds = assume(client, role, key_id, secret)
    response = call(client, "GetCallerIdentity", creds["AccessKeyId"], creds["AccessKeySecret"])
    assert response.json()["Code"] == "MissingSecurityToken"


def test_an_expired_token(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    creds = assume(client, role, key_id, secret, DurationSeconds="900")
    later = datetime.now(UTC) + timedelta(seconds=901)
    with time_machine.travel(later, tick=False):
        response = call(
            client,
            "GetCallerIdentity",
            creds["AccessKeyId"],
            creds["AccessKeySecret"],
            token=creds["SecurityToken"],
        )
    assert response.json()["Code"] == "InvalidSecurityToken.Expired"


def test_a_service_assumes_a_service_role_and_a_user_cannot(client, setup, account_a) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    _service, service_key = services.create_service(SYSTEM_ACTOR, "oss.example.internal")
    role = services.create_role(
        SYSTEM_ACTOR,
        account_a,
        "log-writer",
        trust_policy=trust({"Service": ["oss.example.internal"]}),
    )
    by_service = call(
        client,
        "AssumeRole",
        service_key.access_key.access_key_id,
        service_key.secret,
        RoleArn=role.arn,
        RoleSessionName="svc",
    )
    by_user = call(client, "AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="usr")
    assert by_service.status_code == 200
    assert (by_user.status_code, by_user.json()["Code"]) == (403, "NoPermission")


def test_disabled_user_keys_are_refused(client, setup, user_a) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    services.update_user(SYSTEM_ACTOR, user_a, is_active=False)
    response = call(client, "GetCallerIdentity", key_id, secret)
    assert response.json()["Code"] == "InvalidAccessKeyId.Inactive"


def test_a_user_losing_assume_role_loses_its_sessions(client, setup, user_a) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    creds = assume(client, role, key_id, secret)
    services.detach_policy(
        SYSTEM_ACTOR,
        user_a,
        Policy.objects.get(account__isnull=True, name="AliyunSTSAssumeRoleAccess"),
    )
    response = call(
        client,
        "GetCallerIdentity",
        creds["AccessKeyId"],
        creds["AccessKeySecret"],
        token=creds["SecurityToken"],
    )
    assert response.json()["Code"] == "InvalidSecurityToken.Revoked"


@pytest.mark.parametrize(
    "query",
    [
        "Action=AssumeRole",
        "Action=&Version=",
        "Action=AssumeRole&Signature=%FF%FE&AccessKeyId=x",
        "Action=AssumeRole&SignatureVersion=1.0&SignatureMethod=HMAC-SHA1&AccessKeyId=x"
        "&SignatureNonce=n&Timestamp=garbage&Signature=abc",
    ],
)
def test_malformed_requests_get_alibaba_errors_not_500(client, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.generic("POST", "/?" + query)
    body = response.json()
    assert 400 <= response.status_code < 500
    assert {"RequestId", "HostId", "Code", "Message"} <= set(body)


def test_malformed_v3_authorization_header(client) -> None:  # type: ignore[no-untyped-def]
    response = client.generic(
        "POST",
        "/",
        HTTP_X_ACS_ACTION="AssumeRole",
        HTTP_X_ACS_VERSION="2015-04-01",
        HTTP_AUTHORIZATION="ACS3-HMAC-SHA256 nonsense",
    )
    assert (response.status_code, response.json()["Code"]) == (400, "IncompleteSignature")


def test_every_issued_session_is_recorded(client, setup) -> None:  # type: ignore[no-untyped-def]
    from sts.models import RoleSession

    role, key_id, secret = setup
    assume(client, role, key_id, secret)
    session = RoleSession.objects.get()
    assert (session.role_id, session.session_name, session.channel) == (role.pk, "wire", "api")
    assert session.source_ip == "127.0.0.1"


@pytest.mark.parametrize("action", ["GetCallerIdentity", "AssumeRole"])
def test_a_nul_in_the_nonce_is_an_invalid_parameter_not_a_500(client, setup, action: str) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    params = {"RoleArn": role.arn, "RoleSessionName": "nul"} if action == "AssumeRole" else {}
    response = call(client, action, key_id, secret, nonce="bad\x00nonce", **params)
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidParameter")
    assert "SignatureNonce" in response.json()["Message"]


def test_a_nul_in_any_parameter_is_refused_before_anything_is_written(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    events_before = AuditEvent.objects.count()
    response = call(
        client, "AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="a\x00b"
    )
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidParameter")
    assert "RoleSessionName" in response.json()["Message"]
    assert AuditEvent.objects.count() == events_before
    assert not RoleSession.objects.filter(role=role).exists()


@pytest.mark.parametrize("key_id", ["LTAI\x00x", "LTAI" + "x" * 60, "LTAI key", "LTAI<x>"])
def test_an_access_key_id_of_the_wrong_shape_is_not_found(client, key_id: str) -> None:  # type: ignore[no-untyped-def]
    response = call(client, "GetCallerIdentity", key_id, "secret")
    assert response.status_code in (400, 404), response.content
    assert response.json()["Code"] in ("InvalidParameter", "InvalidAccessKeyId.NotFound")
    assert not UsedNonce.objects.filter(access_key_id__startswith="LTAI").exists()
