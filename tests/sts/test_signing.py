"""Signed RPC requests: spec vectors, the official SDKs' own signing code, and every refusal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts.signing import (
    COMMON_PARAMETERS,
    SignatureError,
    SignedRequest,
    claimed_credentials,
    detect_signature_version,
    parse_v3_authorization,
    sign_v2,
    sign_v3,
    v2_signature,
    v2_string_to_sign,
    v2_string_to_sign_credentials_quirk,
    verify,
)

SECRET = "testsecret"
NOW = datetime(2024, 1, 1, tzinfo=UTC)
NONCE = "0123456789abcdef0123456789abcdef"
ROLE_ARN = "acs:ram::1234567890123456:role/test-role"
ASSUME_ROLE_PARAMS = {
    "Action": "AssumeRole",
    "Format": "JSON",
    "Version": "2015-04-01",
    "RoleArn": ROLE_ARN,
    "RoleSessionName": "alice",
    "DurationSeconds": "3600",
}
V3_QUERY = {"RoleArn": ROLE_ARN, "RoleSessionName": "alice", "DurationSeconds": "3600"}


def secrets_of(**known: str) -> Callable[[str], str]:
    def lookup(access_key_id: str) -> str:
        return known[access_key_id]

    return lookup


def v2_request(
    params: Mapping[str, str], method: str = "POST", *, form: Mapping[str, str] | None = None
) -> SignedRequest:
    return SignedRequest(method, "/", list(params.items()), list((form or {}).items()), {}, b"")


def signed_v2(**overrides: str) -> SignedRequest:
    params = sign_v2("POST", ASSUME_ROLE_PARAMS, "testid", SECRET, nonce=NONCE, timestamp=NOW)
    params.update(overrides)
    return v2_request({name: value for name, value in params.items() if value != "<drop>"})


def signed_v3(
    *, body: bytes = b"", date: datetime = NOW, extra_headers: Mapping[str, str] | None = None
) -> SignedRequest:
    headers = sign_v3(
        "POST",
        "sts.aliyuncs.com",
        V3_QUERY,
        extra_headers or {},
        body,
        "testid",
        SECRET,
        action="AssumeRole",
        version="2015-04-01",
        nonce=NONCE,
        date=date,
    )
    return SignedRequest("POST", "/", list(V3_QUERY.items()), [], headers, body)


def request_from_url(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None = None
) -> SignedRequest:
    """What the web layer builds: form-decoded query pairs (``+`` is a space), blanks kept."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    lower_headers = {name.lower(): value for name, value in headers.items()}
    return SignedRequest(method, "/", query, [], lower_headers, body or b"")


def refusal(request: SignedRequest, now: datetime = NOW) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify(request, secrets_of(testid=SECRET), now=now)
    return caught.value


# -- spec test vectors ------------------------------------------------------------------------


def test_v2_doc_vector_for_get_create_user_reproduces() -> None:
    params = {
        "AccessKeyId": "testid",
        "Action": "CreateUser",
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
        "SignatureVersion": "1.0",
        "Timestamp": "2015-08-18T03:15:45Z",
        "UserName": "test",
        "Version": "2015-05-01",
    }

    string_to_sign = v2_string_to_sign("GET", params.items())

    assert "Timestamp%3D2015-08-18T03%253A15%253A45Z" in string_to_sign
    assert v2_signature(SECRET, string_to_sign) == "kRA2cnpJVacIhDMzXnoNZG9tDCI="


def test_v2_post_assume_role_vector_reproduces() -> None:
    params = sign_v2("POST", ASSUME_ROLE_PARAMS, "testid", SECRET, nonce=NONCE, timestamp=NOW)

    assert params["Signature"] == "pRhbHih2QhkAt8btdrQGIOw/6Gw="


def test_v3_assume_role_vector_reproduces() -> None:
    headers = signed_v3().headers

    algorithm, access_key_id, signed_headers, signature = parse_v3_authorization(
        headers["authorization"]
    )

    assert (algorithm, access_key_id) == ("ACS3-HMAC-SHA256", "testid")
    assert signed_headers == sorted(signed_headers)
    assert signature == "025364c275fefd5d0fc56e62fc92aeb1522a39455eb310a0cc552e159c04f429"


def test_it_verifies_the_v2_vector_request() -> None:
    verified = verify(signed_v2(), secrets_of(testid=SECRET), now=NOW)

    assert (verified.version, verified.access_key_id, verified.nonce) == ("v2", "testid", NONCE)
    assert (verified.action, verified.api_version, verified.format) == (
        "AssumeRole",
        "2015-04-01",
        "JSON",
    )
    assert verified.params == {
        "RoleArn": ROLE_ARN,
        "RoleSessionName": "alice",
        "DurationSeconds": "3600",
    }


def test_it_verifies_the_v3_vector_request() -> None:
    verified = verify(signed_v3(), secrets_of(testid=SECRET), now=NOW)

    assert (verified.version, verified.action, verified.api_version) == (
        "v3",
        "AssumeRole",
        "2015-04-01",
    )
    assert verified.timestamp == NOW
    assert verified.format is None
    assert verified.params == V3_QUERY


# -- the official SDKs, end to end in process -------------------------------------------------


class Captured(Exception):
    """Stops an SDK at the moment it would send its request."""


@pytest.fixture
def tea_capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from darabonba.core import DaraCore

    captured: dict[str, Any] = {}

    def capture(request: Any, runtime: Any = None) -> None:
        captured["request"] = request
        captured["url"] = DaraCore.compose_url(request)
        raise Captured

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(capture))
    yield captured


def tea_sts_client(signature_algorithm: str | None = None, security_token: str | None = None):  # type: ignore[no-untyped-def]
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    config = Config(
        access_key_id="LTAIexample",
        access_key_secret=SECRET,
        security_token=security_token,
        endpoint="127.0.0.1:8000",
        protocol="HTTP",
    )
    if signature_algorithm:
        config.signature_algorithm = signature_algorithm
    return Client(config)


def captured_tea_request(captured: Mapping[str, Any]) -> SignedRequest:
    request = captured["request"]
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return request_from_url(request.method, captured["url"], request.headers, body)


def assume_role_with_tea(client: Any) -> None:
    from alibabacloud_sts20150401 import models
    from darabonba.exceptions import UnretryableException

    with pytest.raises(UnretryableException):  # the SDK wraps Captured
        client.assume_role(
            models.AssumeRoleRequest(
                role_arn=ROLE_ARN,
                role_session_name="alice",
                policy='{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*"}]}',
            )
        )


def test_it_verifies_the_tea_sdk_default_v3_request(tea_capture: dict[str, Any]) -> None:
    assume_role_with_tea(tea_sts_client())

    verified = verify(
        captured_tea_request(tea_capture),
        secrets_of(LTAIexample=SECRET),
        now=datetime.now(UTC),
    )

    assert verified.version == "v3"
    assert verified.params["Policy"].startswith('{"Version": "1"')


def test_it_verifies_the_tea_sdk_v2_request_with_a_security_token(
    tea_capture: dict[str, Any],
) -> None:
    assume_role_with_tea(tea_sts_client("v2", security_token="CAIStoken"))

    verified = verify(
        captured_tea_request(tea_capture),
        secrets_of(LTAIexample=SECRET),
        now=datetime.now(UTC),
    )

    assert (verified.version, verified.format) == ("v2", "json")
    assert verified.security_token == "CAIStoken"


def test_it_verifies_the_tea_sdk_v3_request_with_a_security_token(
    tea_capture: dict[str, Any],
) -> None:
    assume_role_with_tea(tea_sts_client(security_token="CAIStoken"))

    verified = verify(
        captured_tea_request(tea_capture),
        secrets_of(LTAIexample=SECRET),
        now=datetime.now(UTC),
    )

    assert verified.security_token == "CAIStoken"


def test_it_verifies_the_legacy_sdk_request(monkeypatch: pytest.MonkeyPatch) -> None:
    import aliyunsdkcore.http.http_response as http_response
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient
    from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

    captured: dict[str, Any] = {}

    def capture(session: Any, prepared: Any, **kwargs: Any) -> None:
        captured["prepared"] = prepared
        raise Captured

    monkeypatch.setattr(http_response.Session, "send", capture)
    client = AcsClient(
        credential=StsTokenCredential("STS.example", SECRET, "CAIStoken"), region_id="cn-hangzhou"
    )
    request = AssumeRoleRequest()
    request.set_RoleArn(ROLE_ARN)
    request.set_RoleSessionName("alice")
    request.set_Policy('{"a": "b c*~+"}')
    request.set_endpoint("127.0.0.1:8000")
    request.set_protocol_type("http")
    with pytest.raises(Captured):
        client.do_action_with_exception(request)
    prepared = captured["prepared"]

    verified = verify(
        request_from_url(prepared.method, prepared.url, prepared.headers),
        secrets_of(**{"STS.example": SECRET}),
        now=datetime.now(UTC),
    )

    assert verified.security_token == "CAIStoken"
    assert verified.params["Policy"] == '{"a": "b c*~+"}'
    assert verified.params["RegionId"] == "cn-hangzhou"


def test_it_verifies_the_credentials_library_get_request_with_spaces_in_the_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alibabacloud_credentials.provider.ram_role_arn import RamRoleArnCredentialsProvider
    from Tea.core import TeaCore

    captured: dict[str, Any] = {}

    def capture(request: Any, runtime: Any = None) -> None:
        captured.setdefault("request", request)
        captured.setdefault("url", TeaCore.compose_url(request))
        raise Captured

    monkeypatch.setattr(TeaCore, "do_action", staticmethod(capture))
    provider = RamRoleArnCredentialsProvider(
        access_key_id="LTAIexample",
        access_key_secret=SECRET,
        role_arn=ROLE_ARN,
        role_session_name="alice",
        policy='{"Version": "1", "Statement": []}',
        sts_endpoint="127.0.0.1:8000",
    )
    with pytest.raises(Captured):
        provider.get_credentials()

    request = request_from_url("GET", captured["url"], captured["request"].headers)
    standard = v2_signature(SECRET, v2_string_to_sign("GET", request.query))

    verified = verify(request, secrets_of(LTAIexample=SECRET), now=datetime.now(UTC))

    assert standard != dict(request.query)["Signature"]  # only the quirk variant matches
    assert verified.params["Policy"] == '{"Version": "1", "Statement": []}'


# -- the SDKs' signing functions against random parameters -----------------------------------

business_names = st.from_regex(r"[A-Z][A-Za-z0-9._-]{0,12}", fullmatch=True).filter(
    lambda name: name not in COMMON_PARAMETERS
)
business_values = st.one_of(
    st.text(max_size=24),
    st.text(alphabet=" *~+%&=/:.-_é中", max_size=12),
    st.just(""),
)
business_params = st.dictionaries(business_names, business_values, max_size=6)
random_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def v2_common(access_key_id: str = "testid") -> dict[str, str]:
    return {
        "Action": "AssumeRole",
        "Version": "2015-04-01",
        "Format": "json",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": NONCE,
        "Timestamp": "2024-01-01T00:00:00Z",
    }


def flipped(signature: str) -> str:
    return ("B" if signature[0] == "A" else "A") + signature[1:]


@random_settings
@given(params=business_params)
def test_it_accepts_what_the_tea_sdk_v2_signer_signs(params: dict[str, str]) -> None:
    from alibabacloud_tea_openapi.utils import Utils

    query = {**params, **v2_common()}
    signature = Utils.get_rpcsignature(query, "POST", SECRET)

    verified = verify(
        v2_request({**query, "Signature": signature}), secrets_of(testid=SECRET), now=NOW
    )

    assert verified.params == params


@random_settings
@given(params=business_params)
def test_it_rejects_a_tea_sdk_v2_signature_with_a_flipped_character(
    params: dict[str, str],
) -> None:
    from alibabacloud_tea_openapi.utils import Utils

    query = {**params, **v2_common()}
    signature = Utils.get_rpcsignature(query, "POST", SECRET)

    error = refusal(v2_request({**query, "Signature": flipped(signature)}))

    assert error.code == "SignatureDoesNotMatch"


@random_settings
@given(query=business_params, form=business_params)
def test_it_accepts_what_the_legacy_sdk_composer_signs_with_a_form_body(
    query: dict[str, str], form: dict[str, str]
) -> None:
    from aliyunsdkcore.auth.composer.rpc_signature_composer import get_signed_url

    form = {name: value for name, value in form.items() if name not in query}
    url, _ = get_signed_url(
        {**query, "Action": "AssumeRole", "Version": "2015-04-01"},
        "testid",
        SECRET,
        "JSON",
        "POST",
        form,
    )
    wire_form = parse_qsl(urlencode(form), keep_blank_values=True)
    request = request_from_url("POST", url, {})
    request = SignedRequest("POST", "/", request.query, wire_form, {}, b"")

    verified = verify(request, secrets_of(testid=SECRET), now=datetime.now(UTC))

    assert verified.params == {**query, **form}


@random_settings
@given(params=business_params)
def test_it_accepts_what_the_credentials_library_signs(params: dict[str, str]) -> None:
    from alibabacloud_credentials.utils import parameter_helper

    query = {**params, **v2_common()}
    string_to_sign = parameter_helper.compose_string_to_sign("GET", query)
    signature = parameter_helper.sign_string(string_to_sign, SECRET + "&")

    verified = verify(
        v2_request({**query, "Signature": signature}, "GET"), secrets_of(testid=SECRET), now=NOW
    )

    assert verified.params == params


def tea_v3_authorization(query: dict[str, str], headers: dict[str, str], body: bytes) -> str:
    from alibabacloud_tea_openapi.utils import Utils

    request = SimpleNamespace(pathname="/", method="POST", query=query, headers=headers)
    payload = hashlib.sha256(body).hexdigest()
    return Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, "testid", SECRET)


def tea_v3_headers(body: bytes) -> dict[str, str]:
    return {
        "host": "127.0.0.1:8000",
        "x-acs-action": "AssumeRole",
        "x-acs-version": "2015-04-01",
        "x-acs-date": "2024-01-01T00:00:00Z",
        "x-acs-signature-nonce": NONCE,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/0.4.3 TeaDSL/2",
    }


@random_settings
@given(query=business_params, form=business_params)
def test_it_accepts_what_the_tea_sdk_v3_signer_signs(
    query: dict[str, str], form: dict[str, str]
) -> None:
    form = {name: value for name, value in form.items() if name not in query}
    body = urlencode(form).encode()
    headers = tea_v3_headers(body)
    authorization = tea_v3_authorization(query, headers, body)
    request = SignedRequest(
        "POST",
        "/",
        list(query.items()),
        parse_qsl(body.decode(), keep_blank_values=True),
        {**headers, "authorization": authorization},
        body,
    )

    verified = verify(request, secrets_of(testid=SECRET), now=NOW)

    assert verified.params == {**query, **form}


@random_settings
@given(query=business_params)
def test_it_rejects_a_tea_sdk_v3_signature_with_a_flipped_character(
    query: dict[str, str],
) -> None:
    headers = tea_v3_headers(b"")
    authorization = tea_v3_authorization(query, headers, b"")
    tampered = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    request = SignedRequest(
        "POST", "/", list(query.items()), [], {**headers, "authorization": tampered}, b""
    )

    assert refusal(request).code == "SignatureDoesNotMatch"


# -- V2 details -------------------------------------------------------------------------------


def test_the_credentials_quirk_differs_only_where_there_is_a_space() -> None:
    plain = {"Policy": "a*b~c"}
    spaced = {"Policy": "a b"}

    assert v2_string_to_sign_credentials_quirk("GET", plain.items()) == v2_string_to_sign(
        "GET", plain.items()
    )
    assert "a%2Bb" in v2_string_to_sign_credentials_quirk("GET", spaced.items())
    assert "a%2520b" in v2_string_to_sign("GET", spaced.items())


def test_it_keeps_blank_values_in_the_v2_signature() -> None:
    params = sign_v2(
        "POST",
        {**ASSUME_ROLE_PARAMS, "SignatureType": ""},
        "testid",
        SECRET,
        nonce=NONCE,
        timestamp=NOW,
    )
    without_blank = {name: value for name, value in params.items() if name != "SignatureType"}

    assert verify(v2_request(params), secrets_of(testid=SECRET), now=NOW).version == "v2"
    assert refusal(v2_request(without_blank)).code == "SignatureDoesNotMatch"


def test_it_signs_the_real_http_method() -> None:
    params = sign_v2("GET", ASSUME_ROLE_PARAMS, "testid", SECRET, nonce=NONCE, timestamp=NOW)

    assert refusal(v2_request(params, "POST")).code == "SignatureDoesNotMatch"


def test_it_accepts_hmac_sha256_v2_signatures() -> None:
    params = sign_v2(
        "POST",
        ASSUME_ROLE_PARAMS,
        "testid",
        SECRET,
        nonce=NONCE,
        timestamp=NOW,
        signature_method="HMAC-SHA256",
    )

    verified = verify(v2_request(params), secrets_of(testid=SECRET), now=NOW)

    assert verified.signature_method == "HMAC-SHA256"


def test_it_covers_form_parameters_in_the_v2_signature() -> None:
    params = sign_v2(
        "POST",
        {**ASSUME_ROLE_PARAMS, "Policy": "{}"},
        "testid",
        SECRET,
        nonce=NONCE,
        timestamp=NOW,
    )
    query = {name: value for name, value in params.items() if name != "Policy"}

    accepted = verify(v2_request(query, form={"Policy": "{}"}), secrets_of(testid=SECRET), now=NOW)

    assert accepted.params["Policy"] == "{}"
    assert refusal(v2_request(query, form={"Policy": "{ }"})).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "name",
    [
        "AccessKeyId",
        "Signature",
        "SignatureNonce",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "Action",
        "Version",
    ],
)
def test_it_names_a_missing_v2_field(name: str) -> None:
    error = refusal(signed_v2(**{name: "<drop>"}))

    assert (error.code, error.http_status) == (f"Missing{name}", 400)
    assert error.message == f"{name} is mandatory for this action."


def test_it_treats_an_empty_nonce_as_missing() -> None:
    assert refusal(signed_v2(SignatureNonce="")).code == "MissingSignatureNonce"


def test_it_refuses_an_unsupported_signature_method() -> None:
    error = refusal(signed_v2(SignatureMethod="HMAC-MD5"))

    assert error.code == "IncompleteSignature"
    assert "HMAC-MD5 is not supported" in error.message


def test_it_refuses_a_signature_version_other_than_1_0() -> None:
    error = refusal(signed_v2(SignatureVersion="2.0"))

    assert error.code == "IncompleteSignature"
    assert "SignatureVersion 2.0" in error.message


def test_the_mismatch_message_echoes_the_string_to_sign_after_a_colon() -> None:
    request = signed_v2(Signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    expected = v2_string_to_sign("POST", request.query)

    error = refusal(request)

    assert (error.code, error.http_status) == ("SignatureDoesNotMatch", 400)
    assert error.message.endswith("server string to sign is:" + expected)
    assert error.message.split(":")[1] == expected  # what the legacy SDK compares


def test_it_refuses_a_signature_made_with_another_secret() -> None:
    params = sign_v2("POST", ASSUME_ROLE_PARAMS, "testid", "other", nonce=NONCE, timestamp=NOW)

    assert refusal(v2_request(params)).code == "SignatureDoesNotMatch"


def test_it_lets_the_secret_lookup_error_propagate() -> None:
    class UnknownKey(Exception):
        pass

    def lookup(access_key_id: str) -> str:
        raise UnknownKey(access_key_id)

    with pytest.raises(UnknownKey):
        verify(signed_v2(), lookup, now=NOW)


def test_it_returns_the_v2_security_token_and_leaves_it_out_of_params() -> None:
    params = sign_v2(
        "POST",
        ASSUME_ROLE_PARAMS,
        "testid",
        SECRET,
        nonce=NONCE,
        timestamp=NOW,
        security_token="CAIStoken",
    )

    verified = verify(v2_request(params), secrets_of(testid=SECRET), now=NOW)

    assert verified.security_token == "CAIStoken"
    assert "SecurityToken" not in verified.params


# -- clock ------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_it_refuses_a_timestamp_more_than_15_minutes_away(skew: timedelta) -> None:
    error = refusal(signed_v2(), now=NOW + skew)

    assert error.code == "InvalidTimeStamp.Expired"
    assert error.message == "Specified time stamp or date value is expired."


@pytest.mark.parametrize("skew", [timedelta(minutes=15), timedelta(minutes=-15)])
def test_it_accepts_a_timestamp_exactly_15_minutes_away(skew: timedelta) -> None:
    assert verify(signed_v2(), secrets_of(testid=SECRET), now=NOW + skew).timestamp == NOW


@pytest.mark.parametrize(
    "timestamp",
    ["2024-01-01 00:00:00", "2024-01-01T00:00:00+08:00", "2024-01-01T00:00:00", "1704067200"],
)
def test_it_refuses_a_badly_formatted_timestamp(timestamp: str) -> None:
    error = refusal(
        v2_request(
            sign_v2(
                "POST",
                {"Action": "A", "Version": "1"},
                "testid",
                SECRET,
                nonce=NONCE,
                timestamp=timestamp,
            )
        )
    )

    assert error.code == "InvalidTimeStamp.Format"
    assert error.message == "Specified time stamp or date value is not well formatted."


def test_it_tolerates_fractional_seconds() -> None:
    params = sign_v2(
        "POST",
        ASSUME_ROLE_PARAMS,
        "testid",
        SECRET,
        nonce=NONCE,
        timestamp="2024-01-01T00:00:00.123Z",
    )

    assert verify(v2_request(params), secrets_of(testid=SECRET), now=NOW).timestamp == NOW


def test_it_refuses_a_v3_date_more_than_15_minutes_old() -> None:
    error = refusal(signed_v3(date=NOW - timedelta(minutes=20)))

    assert error.code == "InvalidTimeStamp.Expired"


# -- V3 details -------------------------------------------------------------------------------


def with_headers(request: SignedRequest, **changes: str | None) -> SignedRequest:
    headers = dict(request.headers)
    for name, value in changes.items():
        header = name.replace("_", "-")
        if value is None:
            headers.pop(header, None)
        else:
            headers[header] = value
    return SignedRequest(
        request.method, request.path, request.query, request.form, headers, request.body
    )


def test_it_covers_a_v3_form_body_through_the_payload_hash() -> None:
    body = b"Policy=%7B%7D"
    request = signed_v3(
        body=body, extra_headers={"content-type": "application/x-www-form-urlencoded"}
    )
    request = SignedRequest("POST", "/", request.query, [("Policy", "{}")], request.headers, body)

    verified = verify(request, secrets_of(testid=SECRET), now=NOW)

    assert verified.params["Policy"] == "{}"


def test_it_refuses_a_v3_body_that_does_not_match_its_declared_hash() -> None:
    request = signed_v3(body=b"Policy=a")
    request = SignedRequest(
        "POST", "/", request.query, [("Policy", "b")], request.headers, b"Policy=b"
    )

    error = refusal(request)

    assert error.code == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in error.message


def test_it_refuses_a_changed_v3_query_value() -> None:
    request = signed_v3()
    request = SignedRequest(
        "POST",
        "/",
        [("RoleArn", ROLE_ARN), ("RoleSessionName", "mallory"), ("DurationSeconds", "3600")],
        [],
        request.headers,
        b"",
    )

    assert refusal(request).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "authorization",
    [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=,Signature=00",
        "ACS3-HMAC-SHA256 Credential=testid SignedHeaders=host Signature=00",
    ],
)
def test_it_refuses_a_malformed_v3_authorization_header(authorization: str) -> None:
    assert refusal(with_headers(signed_v3(), authorization=authorization)).code == (
        "IncompleteSignature"
    )


def test_it_refuses_an_unsupported_v3_algorithm() -> None:
    authorization = signed_v3().headers["authorization"].replace("HMAC-SHA256", "HMAC-SM3", 1)

    error = refusal(with_headers(signed_v3(), authorization=authorization))

    assert error.code == "IncompleteSignature"
    assert "ACS3-HMAC-SM3 is not supported" in error.message


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("x-acs-action", "MissingAction"),
        ("x-acs-version", "MissingVersion"),
        ("x-acs-date", "IncompleteSignature"),
        ("x-acs-signature-nonce", "IncompleteSignature"),
    ],
)
def test_it_refuses_a_v3_request_without_a_required_header(header: str, code: str) -> None:
    assert refusal(with_headers(signed_v3(), **{header: None})).code == code


def test_it_refuses_a_v3_request_that_does_not_sign_the_nonce() -> None:
    request = signed_v3()
    authorization = request.headers["authorization"].replace("x-acs-signature-nonce;", "")

    error = refusal(with_headers(request, authorization=authorization))

    assert error.code == "IncompleteSignature"
    assert "x-acs-signature-nonce must be signed" in error.message


def test_it_refuses_a_v3_request_missing_a_header_it_signed() -> None:
    request = signed_v3(extra_headers={"accept": "application/json"})

    error = refusal(with_headers(request, accept=None))

    assert error.code == "IncompleteSignature"
    assert "accept" in error.message


def test_it_trims_signed_header_values() -> None:
    request = signed_v3(extra_headers={"user-agent": "sdk/1"})

    padded = with_headers(request, user_agent="  sdk/1 ")

    assert verify(padded, secrets_of(testid=SECRET), now=NOW).version == "v3"


def test_it_reads_the_v3_security_token_from_the_header_or_the_query() -> None:
    headers = sign_v3(
        "POST",
        "h",
        {},
        {},
        b"",
        "STS.x",
        SECRET,
        action="A",
        version="1",
        nonce=NONCE,
        date=NOW,
        security_token="CAIShead",
    )
    from_header = SignedRequest("POST", "/", [], [], headers, b"")
    query_only = sign_v3(
        "POST",
        "h",
        {"SecurityToken": "CAISquery"},
        {},
        b"",
        "STS.x",
        SECRET,
        action="A",
        version="1",
        nonce=NONCE,
        date=NOW,
    )
    from_query = SignedRequest("POST", "/", [("SecurityToken", "CAISquery")], [], query_only, b"")

    lookup = secrets_of(**{"STS.x": SECRET})
    assert verify(from_header, lookup, now=NOW).security_token == "CAIShead"
    assert verify(from_query, lookup, now=NOW).security_token == "CAISquery"


# -- detection and pre-verification reading ---------------------------------------------------


def test_it_detects_the_signature_version() -> None:
    assert detect_signature_version(signed_v3()) == "v3"
    assert detect_signature_version(signed_v2()) == "v2"
    assert detect_signature_version(v2_request({"Action": "GetCallerIdentity"})) is None


def test_an_unsigned_request_is_refused_as_missing_its_access_key_id() -> None:
    assert refusal(v2_request({"Action": "GetCallerIdentity"})).code == "MissingAccessKeyId"


def test_claimed_credentials_reads_the_key_and_token_before_verification() -> None:
    v2 = sign_v2(
        "POST",
        ASSUME_ROLE_PARAMS,
        "STS.a",
        SECRET,
        nonce=NONCE,
        timestamp=NOW,
        security_token="CAISa",
    )
    v3 = sign_v3(
        "POST",
        "h",
        {},
        {},
        b"",
        "STS.b",
        SECRET,
        action="A",
        version="1",
        nonce=NONCE,
        date=NOW,
        security_token="CAISb",
    )

    assert claimed_credentials(v2_request(v2)) == ("STS.a", "CAISa")
    assert claimed_credentials(SignedRequest("POST", "/", [], [], v3, b"")) == ("STS.b", "CAISb")
