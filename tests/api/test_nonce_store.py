"""Spent nonces in either store, shared across processes: the database (default) and Redis."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import redis
from django.test import override_settings
from django.utils import timezone

from iam import errors, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AccessKey, Account
from sts import nonces
from sts.models import RoleSession, UsedNonce
from tests.api.conftest import World
from tests.api.sdk import assume, sts
from tests.api.test_wire import call

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs one on 6379")
    return REDIS_URL


def spent(store, access_key_id: str, nonce: str, account_ids=()) -> bool:  # type: ignore[no-untyped-def]
    try:
        store.spend(access_key_id, nonce, timezone.now(), list(account_ids))
    except errors.ServiceError as error:
        assert error.code == "SignatureNonceUsed"
        return False
    return True


@pytest.mark.django_db
def test_the_database_store_spends_a_nonce_once_per_access_key() -> None:
    store = nonces.DatabaseNonces()
    assert spent(store, "LTAIone", "n-1")
    assert not spent(store, "LTAIone", "n-1")
    assert spent(store, "LTAItwo", "n-1")
    assert UsedNonce.objects.filter(nonce="n-1").count() == 2


@pytest.mark.django_db
def test_the_database_store_reads_the_versions_of_the_accounts_that_exist(account_a) -> None:  # type: ignore[no-untyped-def]
    versions = nonces.DatabaseNonces().spend(
        "LTAIone", "n-2", timezone.now(), [account_a.pk, "1234567890123456"]
    )
    assert versions == {account_a.pk: Account.objects.get(pk=account_a.pk).version}


@pytest.mark.django_db
def test_the_database_store_sweeps_rows_older_than_twice_the_window(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    UsedNonce.objects.create(access_key_id="LTAIold", nonce="old", seen=now - timedelta(hours=1))
    UsedNonce.objects.create(access_key_id="LTAIold", nonce="recent", seen=now)
    monkeypatch.setattr(nonces.random, "random", lambda: 0.0)
    assert spent(nonces.DatabaseNonces(), "LTAIold", "new")
    assert set(UsedNonce.objects.values_list("nonce", flat=True)) == {"recent", "new"}


def test_the_redis_store_spends_a_nonce_once_and_forgets_it_after_twice_the_window(
    redis_url: str,
) -> None:
    nonce = secrets.token_hex(16)
    worker_1 = nonces.RedisNonces(redis.Redis.from_url(redis_url))
    worker_2 = nonces.RedisNonces(redis.Redis.from_url(redis_url))  # another process's client
    assert spent(worker_1, "LTAIone", nonce, ["1234567890123456"])
    assert not spent(worker_2, "LTAIone", nonce)
    assert spent(worker_2, "LTAItwo", nonce)
    ttl = worker_1.client.ttl(nonces.redis_key("LTAIone", nonce))
    assert 1790 < ttl <= 1800


def test_redis_keys_are_fixed_length_whatever_the_client_sends() -> None:
    short = nonces.redis_key("LTAIone", "n")
    long = nonces.redis_key("LTAIone", "x" * 5000 + "\n*")
    assert len(short) == len(long) == len(nonces.REDIS_KEY_PREFIX) + 64
    assert nonces.redis_key("LTAIa", "b\0c") != nonces.redis_key("LTAIa\0b", "c")


def test_an_unreachable_redis_fails_closed_with_service_unavailable() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(errors.ServiceError) as caught:
        nonces.RedisNonces(client).spend("LTAIone", "n", timezone.now(), [])
    assert (caught.value.code, caught.value.http_status) == ("ServiceUnavailable", 503)


def test_the_store_is_chosen_once_from_the_settings(redis_url: str) -> None:
    with override_settings(NONCE_STORE_URL=""):
        assert isinstance(nonces.nonce_store(), nonces.DatabaseNonces)
        assert nonces.nonce_store() is nonces.nonce_store()
    with override_settings(NONCE_STORE_URL=redis_url):
        assert isinstance(nonces.nonce_store(), nonces.RedisNonces)


@pytest.mark.django_db
def test_a_replay_is_refused_with_nonces_in_redis_and_nothing_lands_in_the_database(
    client, setup, redis_url: str
) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    nonce = secrets.token_hex(16)
    with override_settings(NONCE_STORE_URL=redis_url):
        first = call(client, "GetCallerIdentity", key_id, secret, nonce=nonce)
        replay = call(client, "GetCallerIdentity", key_id, secret, nonce=nonce)
    assert first.status_code == 200
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert not UsedNonce.objects.filter(nonce=nonce).exists()


def test_the_official_sdk_assumes_a_role_with_nonces_in_redis(world: World, redis_url: str) -> None:
    spent_before = UsedNonce.objects.count()
    with override_settings(NONCE_STORE_URL=redis_url):
        client = sts(world.endpoint, world.alice_key.access_key_id, world.alice_key.secret)
        body = assume(client, world.role.arn, session="redis-nonces")
    assert body.credentials.access_key_id.startswith("STS.")
    assert UsedNonce.objects.count() == spent_before


@pytest.mark.django_db
def test_a_replayed_assume_role_is_refused_and_issues_no_second_session(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    nonce = secrets.token_hex(16)
    params = {"RoleArn": role.arn, "RoleSessionName": "replayed", "nonce": nonce}
    first = call(client, "AssumeRole", key_id, secret, **params)
    replay = call(client, "AssumeRole", key_id, secret, **params)
    assert first.status_code == 200, first.content
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert RoleSession.objects.filter(session_name="replayed").count() == 1
    assert UsedNonce.objects.filter(access_key_id=key_id, nonce=nonce).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "session_name", "status", "code"),
    [
        ("no-such-role", "gone", 404, "EntityNotExist.Role"),
        ("ops", "x", 400, "InvalidParameter.RoleSessionName"),
    ],
)
def test_a_refused_assume_role_spends_its_nonce_all_the_same(  # type: ignore[no-untyped-def]
    client, setup, name: str, session_name: str, status: int, code: str
) -> None:
    role, key_id, secret = setup
    nonce = secrets.token_hex(16)
    arn = role.arn.rsplit("/", 1)[0] + "/" + name
    params = {"RoleArn": arn, "RoleSessionName": session_name, "nonce": nonce}
    first = call(client, "AssumeRole", key_id, secret, **params)
    replay = call(client, "AssumeRole", key_id, secret, **params)
    assert (first.status_code, first.json()["Code"]) == (status, code)
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    assert UsedNonce.objects.filter(access_key_id=key_id, nonce=nonce).count() == 1


@pytest.mark.django_db
def test_a_request_naming_a_key_that_does_not_exist_spends_no_nonce(client) -> None:  # type: ignore[no-untyped-def]
    response = call(client, "GetCallerIdentity", "LTAInoSuchKey0000000000", "secret")
    assert (response.status_code, response.json()["Code"]) == (404, "InvalidAccessKeyId.NotFound")
    assert not UsedNonce.objects.exists()


@pytest.mark.django_db
def test_a_key_status_is_told_only_to_whoever_holds_its_secret(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    key = AccessKey.objects.get(pk=key_id)
    services.update_access_key_status(SYSTEM_ACTOR, key, AccessKey.Status.INACTIVE)
    guessed = call(client, "GetCallerIdentity", key_id, "not-the-secret")
    signed = call(client, "GetCallerIdentity", key_id, secret)
    assert (guessed.status_code, guessed.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert (signed.status_code, signed.json()["Code"]) == (400, "InvalidAccessKeyId.Inactive")


@pytest.mark.django_db
def test_a_verified_request_for_an_unknown_action_spends_its_nonce(client, setup) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    first = call(client, "NoSuchAction", key_id, secret, nonce="unknown-action")
    replay = call(client, "NoSuchAction", key_id, secret, nonce="unknown-action")
    assert (first.status_code, first.json()["Code"]) == (404, "InvalidAction.NotFound")
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
