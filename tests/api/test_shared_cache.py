"""API requests reuse rows read on earlier requests (``sts.row_cache``) while the versions of
the accounts they depend on (``iam.versions``), read with the nonce from the database or from
Redis, are unchanged; every change that could alter the answer takes effect on the next request,
in every server process."""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from iam import services, versions
from iam.audit import SYSTEM_ACTOR
from iam.models import AccessKey, Policy
from iam.system_policies import ensure_system_policies
from sts import row_cache
from sts.models import RoleSession
from tests.api.conftest import trust
from tests.api.test_nonce_store import REDIS_URL
from tests.api.test_wire import assume, call, signed_query
from tests.bench.api import bench_env, start_server


@pytest.fixture
def with_redis() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs one on 6379")
    with override_settings(NONCE_STORE_URL=REDIS_URL):
        yield REDIS_URL


@pytest.fixture(params=["database", "redis"])
def store(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Each nonce store: rows are kept under versions read with the nonce from the database or
    from Redis."""
    if request.param == "redis":
        yield request.getfixturevalue("with_redis")
    else:
        yield ""


def is_store_statement(sql: str) -> bool:
    """The nonce store's own work: the nonce's row and the accounts' versions."""
    versions = sql.startswith("SELECT") and '"iam_account"."version"' in sql and " JOIN " not in sql
    return '"sts_usednonce"' in sql or versions


def reads_of(client, *args, **params) -> tuple[int, str, list[str]]:  # type: ignore[no-untyped-def]
    """Status, error code and the reads of one call besides the nonce store's (an AssumeRole's
    write starts with WITH on PostgreSQL, its session row and audit event inserted together)."""
    with CaptureQueriesContext(connection) as captured:
        response = call(client, *args, **params)
    sql = [query["sql"].lstrip() for query in captured.captured_queries]
    reads = [
        statement
        for statement in sql
        if not is_store_statement(statement)
        and (
            statement.startswith("SELECT")
            or (statement.startswith("WITH") and "INSERT INTO" not in statement)
        )
    ]
    return response.status_code, response.json().get("Code", ""), reads


def role_credentials(client, setup) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    credentials = assume(client, role, key_id, secret)
    return credentials["AccessKeyId"], credentials["AccessKeySecret"], credentials["SecurityToken"]


def caller_identity(client, credentials: tuple[str, str, str]) -> tuple[int, str, list[str]]:  # type: ignore[no-untyped-def]
    key_id, secret, token = credentials
    return reads_of(client, "GetCallerIdentity", key_id, secret, token=token)


@pytest.mark.django_db
def test_a_role_credential_request_reads_nothing_from_the_database_once_checked(  # type: ignore[no-untyped-def]
    client, setup, with_redis
) -> None:
    credentials = role_credentials(client, setup)
    first = caller_identity(client, credentials)
    assert first[0] == 200 and any('"sts_rolesession"' in sql for sql in first[2])
    with CaptureQueriesContext(connection) as captured:
        key_id, secret, token = credentials
        response = call(client, "GetCallerIdentity", key_id, secret, token=token)
    assert response.status_code == 200, response.content
    assert response.json()["Arn"].endswith(":assumed-role/ops/wire")
    assert captured.captured_queries == []


@pytest.mark.django_db
def test_without_redis_a_kept_session_check_costs_only_the_nonces_statement(client, setup) -> None:  # type: ignore[no-untyped-def]
    credentials = role_credentials(client, setup)
    for _ in range(2):
        assert caller_identity(client, credentials)[0] == 200
    with CaptureQueriesContext(connection) as captured:
        key_id, secret, token = credentials
        assert call(client, "GetCallerIdentity", key_id, secret, token=token).status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    # PostgreSQL: the nonce's INSERT and the versions in one statement; SQLite: one each.
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert all(is_store_statement(sql.lstrip()) for sql in statements), statements


@pytest.mark.django_db
def test_assume_role_by_a_known_key_only_writes_its_session(client, setup, store) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    for _ in range(2):  # the first learns the key's secret, the second reads under versions
        assume(client, role, key_id, secret)
    status, code, selects = reads_of(
        client, "AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="cached"
    )
    assert (status, code, selects) == (200, "", [])
    assert RoleSession.objects.filter(session_name="cached").count() == 1


def revoke_one(role, user, key) -> None:  # type: ignore[no-untyped-def]
    session = RoleSession.objects.select_related("role").get(role=role, session_name="wire")
    assert services.revoke_role_session(SYSTEM_ACTOR, session)


def revoke_all(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.revoke_role_sessions(SYSTEM_ACTOR, role)


def distrust(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.update_role(SYSTEM_ACTOR, role, trust_policy=trust("acs:ram::1234567890123456:root"))


def delete_role(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.delete_role(SYSTEM_ACTOR, role)


def disable_user(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.update_user(SYSTEM_ACTOR, user, is_active=False)


def take_assume_role_away(role, user, key) -> None:  # type: ignore[no-untyped-def]
    policy = user.attachments.get().policy
    services.detach_policy(SYSTEM_ACTOR, user, policy)


def deactivate_key(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.update_access_key_status(SYSTEM_ACTOR, key, AccessKey.Status.INACTIVE)


def delete_key(role, user, key) -> None:  # type: ignore[no-untyped-def]
    services.delete_access_key(SYSTEM_ACTOR, key)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", [revoke_one, revoke_all, distrust, delete_role, disable_user, take_assume_role_away]
)
def test_a_cached_session_check_gives_way_to_the_next_change(  # type: ignore[no-untyped-def]
    client, setup, user_a, store, change, django_capture_on_commit_callbacks
) -> None:
    role, key_id, _ = setup
    credentials = role_credentials(client, setup)
    for _ in range(2):
        assert caller_identity(client, credentials)[0] == 200
    assert caller_identity(client, credentials)[2] == []  # served from the cache
    with django_capture_on_commit_callbacks(execute=True):
        change(role, user_a, AccessKey.objects.get(access_key_id=key_id))
    status, code, _ = caller_identity(client, credentials)
    assert (status, code) == (403, "InvalidSecurityToken.Revoked")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (deactivate_key, (400, "InvalidAccessKeyId.Inactive")),
        (delete_key, (404, "InvalidAccessKeyId.NotFound")),
        (disable_user, (400, "InvalidAccessKeyId.Inactive")),
        (take_assume_role_away, (403, "NoPermission")),
        (distrust, (403, "NoPermission")),
        (delete_role, (404, "EntityNotExist.Role")),
    ],
)
def test_cached_key_and_role_rows_give_way_to_the_next_change(  # type: ignore[no-untyped-def]
    client, setup, user_a, store, change, expected, django_capture_on_commit_callbacks
) -> None:
    role, key_id, secret = setup
    for _ in range(2):
        assume(client, role, key_id, secret)
    params = {"RoleArn": role.arn, "RoleSessionName": "again"}
    assert reads_of(client, "AssumeRole", key_id, secret, **params)[:3] == (200, "", [])
    with django_capture_on_commit_callbacks(execute=True):
        change(role, user_a, AccessKey.objects.get(access_key_id=key_id))
    assert reads_of(client, "AssumeRole", key_id, secret, **params)[:2] == expected


@pytest.mark.django_db
def test_a_role_created_after_a_miss_is_found_on_the_next_request(  # type: ignore[no-untyped-def]
    client, setup, account_a, store, django_capture_on_commit_callbacks
) -> None:
    role, key_id, secret = setup
    arn = role.arn.rsplit("/", 1)[0] + "/later"
    for _ in range(3):
        response = call(client, "AssumeRole", key_id, secret, RoleArn=arn, RoleSessionName="later")
        assert response.status_code == 404, response.content
    with django_capture_on_commit_callbacks(execute=True):
        services.create_role(
            SYSTEM_ACTOR, account_a, "later", trust_policy=trust(f"acs:ram::{account_a.pk}:root")
        )
    response = call(client, "AssumeRole", key_id, secret, RoleArn=arn, RoleSessionName="later")
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_a_replayed_nonce_is_refused_on_the_cached_path(client, setup, store) -> None:  # type: ignore[no-untyped-def]
    credentials = role_credentials(client, setup)
    for _ in range(2):
        caller_identity(client, credentials)
    query = signed_query("GetCallerIdentity", *credentials[:2], token=credentials[2])
    assert client.generic("POST", "/?" + query).status_code == 200
    replay = client.generic("POST", "/?" + query)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_for_a_key_seen_before(client, setup, store) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    assume(client, role, key_id, secret)
    wrong = ("y" if secret.startswith("x") else "x") + secret[1:]
    status, code, _ = reads_of(
        client, "AssumeRole", key_id, wrong, RoleArn=role.arn, RoleSessionName="w"
    )
    assert (status, code) == (400, "SignatureDoesNotMatch")


def test_entries_serve_only_their_stamp_and_not_past_their_age() -> None:
    entries = row_cache.VersionedCache(2)
    entries.put("a", (b"v1",), "row")
    assert entries.get("a", (b"v1",)) == "row"
    assert entries.get("a", (b"v2",)) is row_cache.MISSING
    assert entries.get("a", (None,)) is row_cache.MISSING  # Redis lost its keys
    with override_settings(SHARED_CACHE_MAX_AGE=0):
        assert entries.get("a", (b"v1",)) is row_cache.MISSING
    entries.put("b", (), 1)
    entries.put("c", (), 2)
    assert len(entries) == 2  # bounded


def test_a_version_that_cannot_be_published_empties_this_process_caches(caplog) -> None:  # type: ignore[no-untyped-def]
    row_cache.session_checks.put("session", (b"v",), "state")
    with override_settings(NONCE_STORE_URL="redis://127.0.0.1:1/0"), caplog.at_level(logging.ERROR):
        versions.publish("1234567890123456")
    assert len(row_cache.session_checks) == 0
    assert "could not publish the new version of account 1234567890123456" in caplog.text


def test_each_publish_sets_a_fresh_random_token(with_redis) -> None:  # type: ignore[no-untyped-def]
    store = redis.Redis.from_url(with_redis)
    tokens = set()
    for _ in range(3):
        versions.publish("6543210987654321")
        tokens.add(store.get(versions.version_key("6543210987654321")))
    assert len(tokens) == 3 and None not in tokens
    assert 0 < store.ttl(versions.version_key("6543210987654321")) <= versions.VERSION_TTL


# --- across server processes ----------------------------------------------------------------------


@pytest.fixture
def gunicorn(transactional_db, store) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """Two gunicorn workers on the test database, with this process's nonce store."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database other processes can open (CI runs PostgreSQL)")
    ensure_system_policies()  # an earlier transactional test may have flushed them
    settings = connection.settings_dict
    database = (
        f"postgres://{quote(settings['USER'] or '')}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**bench_env(database), "NONCE_STORE_URL": store, "CONN_MAX_AGE": "0"}
    server, port = start_server(env, threads=2)
    try:
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def post(port: int, query: str) -> tuple[int, dict]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection_.request("POST", "/?" + query, headers={"Content-Length": "0"})
    response = connection_.getresponse()
    return response.status, json.loads(response.read())


def test_every_server_process_honours_a_revocation_on_its_next_request(  # type: ignore[no-untyped-def]
    gunicorn, setup
) -> None:
    port = gunicorn
    role, key_id, secret = setup
    status, body = post(
        port,
        signed_query("AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="processes"),
    )
    assert status == 200, body
    issued = body["Credentials"]
    credentials = (issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])

    def identity() -> tuple[int, dict]:
        return post(port, signed_query("GetCallerIdentity", *credentials[:2], token=credentials[2]))

    # Enough requests for both workers to have checked the session and kept the outcome.
    assert {identity()[0] for _ in range(40)} == {200}
    session = RoleSession.objects.select_related("role").get(session_name="processes")
    services.revoke_role_session(SYSTEM_ACTOR, session)  # commits, then publishes
    answers = [identity() for _ in range(40)]
    assert {(status, body["Code"]) for status, body in answers} == {
        (403, "InvalidSecurityToken.Revoked")
    }


# --- review findings ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_lost_with_redis_never_lets_an_old_stamp_match_again(  # type: ignore[no-untyped-def]
    client, setup, user_a, with_redis, django_capture_on_commit_callbacks
) -> None:
    _, key_id, secret = setup
    store = redis.Redis.from_url(with_redis)
    version = versions.version_key(user_a.account_id)
    store.delete(version)  # as after a restart of a Redis that keeps nothing
    for _ in range(3):
        assert call(client, "GetCallerIdentity", key_id, secret).status_code == 200
    assert store.get(version) is not None  # the reader set a token of its own
    assert 0 < store.ttl(version) <= versions.READER_TOKEN_TTL  # made-up account ids leave nothing
    with django_capture_on_commit_callbacks(execute=True):
        key = AccessKey.objects.get(pk=key_id)
        services.update_access_key_status(SYSTEM_ACTOR, key, AccessKey.Status.INACTIVE)
    store.delete(version)  # the change's token lost too
    response = call(client, "GetCallerIdentity", key_id, secret)
    assert (response.status_code, response.json()["Code"]) == (400, "InvalidAccessKeyId.Inactive")


@pytest.mark.django_db
def test_set_account_alias_leaves_rows_other_requests_share_alone(  # type: ignore[no-untyped-def]
    client, account_a, with_redis
) -> None:
    root = services.create_root_access_key(SYSTEM_ACTOR, account_a)
    key_id, secret = root.access_key.access_key_id, root.secret
    for _ in range(3):
        response = call(client, "GetAccountAlias", key_id, secret, version="2015-05-01")
        assert response.json()["AccountAlias"] == "company-a"
    response = call(
        client, "SetAccountAlias", key_id, secret, version="2015-05-01", AccountAlias="renamed"
    )
    assert response.status_code == 200, response.content
    # Not committed as far as other requests know (this test's transaction never commits, so
    # nothing is published): the rows they share still hold what was read.
    shared = row_cache.access_keys.entries.get(key_id).value
    assert shared.user.account.alias == "company-a"


@pytest.mark.django_db
def test_an_unrelated_change_does_not_revoke_a_session_issued_under_conditions(  # type: ignore[no-untyped-def]
    client, setup, account_a, with_redis, django_capture_on_commit_callbacks
) -> None:
    _, key_id, secret = setup
    gated = services.create_role(
        SYSTEM_ACTOR,
        account_a,
        "gated",
        trust_policy=trust(
            f"acs:ram::{account_a.pk}:root",
            condition={"StringEquals": {"sts:ExternalId": "abc123"}},
        ),
    )
    issued = assume(client, gated, key_id, secret, ExternalId="abc123")
    credentials = (issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])
    assert caller_identity(client, credentials)[0] == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.create_role(
            SYSTEM_ACTOR,
            account_a,
            "unrelated",
            trust_policy=trust(f"acs:ram::{account_a.pk}:root"),
        )
    assert caller_identity(client, credentials)[:2] == (200, "")


@pytest.mark.django_db
def test_the_sessions_of_a_deleted_user_are_revoked(client, setup, user_a) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    issued = assume(client, role, key_id, secret)
    credentials = (issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])
    services.delete_access_key(SYSTEM_ACTOR, AccessKey.objects.get(pk=key_id))
    for attachment in list(user_a.attachments.all()):
        services.detach_policy(SYSTEM_ACTOR, user_a, attachment.policy)
    services.delete_login_profile(SYSTEM_ACTOR, user_a)
    services.delete_user(SYSTEM_ACTOR, user_a)
    status, code, _ = caller_identity(client, credentials)
    assert (status, code) == (403, "InvalidSecurityToken.Revoked")


@pytest.mark.django_db
def test_a_session_is_checked_again_with_the_conditions_it_was_issued_under(  # type: ignore[no-untyped-def]
    client, setup, account_a, admin_a
) -> None:
    _, key_id, secret = setup

    def gated_trust(external_id: str) -> str:
        condition = {"StringEquals": {"sts:ExternalId": external_id}}
        return trust(f"acs:ram::{account_a.pk}:root", condition=condition)

    gated = services.create_role(SYSTEM_ACTOR, account_a, "gated", trust_policy=gated_trust("abc"))
    issued = assume(client, gated, key_id, secret, ExternalId="abc")
    credentials = (issued["AccessKeyId"], issued["AccessKeySecret"], issued["SecurityToken"])
    # A policy change in the caller's account makes the next request check the caller again.
    services.attach_policy(SYSTEM_ACTOR, admin_a, Policy.objects.get(name="ReadOnlyAccess"))
    assert caller_identity(client, credentials)[:2] == (200, "")
    services.update_role(SYSTEM_ACTOR, gated, trust_policy=gated_trust("other"))
    status, code, _ = caller_identity(client, credentials)
    assert (status, code) == (403, "InvalidSecurityToken.Revoked")
