"""A request whose signature does not verify spends no nonce, in either store: the front door
verifies the signature before it calls the store (``sts.front_door.answered``), so whoever lacks
the secret cannot burn the nonces of requests its owner is about to send."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
import redis
from django.test import override_settings

from sts import nonces
from sts.models import UsedNonce
from tests.api.test_nonce_store import REDIS_URL
from tests.api.test_wire import call, signed_query

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "redis"])
def store(request) -> Iterator[Callable[[str, str], bool]]:  # type: ignore[no-untyped-def]
    """The nonce store under test, as a question: is (key, nonce) spent in it?"""
    if request.param == "database":
        with override_settings(NONCE_STORE_URL=""):
            yield lambda key_id, nonce: UsedNonce.objects.filter(
                access_key_id=key_id, nonce=nonce
            ).exists()
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} ({error}); CI runs one on 6379")
    with override_settings(NONCE_STORE_URL=REDIS_URL):
        yield lambda key_id, nonce: bool(client.exists(nonces.redis_key(key_id, nonce)))


def test_a_wrong_secret_spends_no_nonce_and_the_owner_then_uses_it(client, setup, store) -> None:  # type: ignore[no-untyped-def]
    _, key_id, secret = setup
    nonce = secrets.token_hex(16)
    forged = call(client, "GetCallerIdentity", key_id, "not-the-secret", nonce=nonce)
    assert (forged.status_code, forged.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert not store(key_id, nonce)
    genuine = call(client, "GetCallerIdentity", key_id, secret, nonce=nonce)
    assert genuine.status_code == 200, genuine.content
    assert store(key_id, nonce)


def test_a_parameter_changed_after_signing_spends_no_nonce(client, setup, store) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    nonce = secrets.token_hex(16)
    query = signed_query(
        "AssumeRole", key_id, secret, nonce=nonce, RoleArn=role.arn, RoleSessionName="signed"
    )
    tampered = client.generic(
        "POST", "/?" + query.replace("RoleSessionName=signed", "RoleSessionName=forged")
    )
    assert (tampered.status_code, tampered.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert not store(key_id, nonce)
    genuine = client.generic("POST", "/?" + query)
    assert genuine.status_code == 200, genuine.content
