"""Refused AssumeRole calls reach the target account's trail within a quota per caller
(``iam.audit_throttle``), so nobody can flood another account's trail; refused all the same, and
counted, the count recorded with the caller's next refusal recorded there. Through the official
SDK against the live server, with the counts in the database and in Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from alibabacloud_tea_openapi.exceptions import ClientException
from django.test import override_settings
from django.utils import timezone

from iam.audit_throttle import LIMIT_REACHED, RECORDED_PER_MINUTE
from iam.models import AuditEvent
from tests.api.conftest import Key, World
from tests.api.sdk import assume, sts
from tests.api.test_shared_cache import with_redis  # noqa: F401 (a fixture)


@pytest.fixture(params=["database", "redis"])
def store(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "redis":
        yield request.getfixturevalue("with_redis")
    else:
        with override_settings(NONCE_STORE_URL=""):
            yield ""


def minute(offset: int = 0) -> datetime:
    """A second into a coming minute: the calls of a test fit in one minute of the quota."""
    now = timezone.now().replace(second=1, microsecond=0)
    return now + timedelta(minutes=1 + offset)


def refused(world: World, key: Key, role_arn: str = "", times: int = 1) -> None:
    client = sts(world.endpoint, key.access_key_id, key.secret)
    for _ in range(times):
        with pytest.raises(ClientException) as caught:
            assume(client, role_arn or world.role.arn, session="flood")
        assert caught.value.code == "NoPermission"


def refusals_of(world: World, key_owner_arn: str, account_id: str = "") -> list[AuditEvent]:
    events = AuditEvent.objects.filter(
        account_id=account_id or world.company_a.pk,
        action="sts:AssumeRole",
        result="Failure",
        logon_identity=key_owner_arn,
    )
    return list(events.order_by("id"))


def in_minute(offset: int) -> Callable[..., Any]:
    return time_machine.travel(minute(offset), tick=True)


def test_refusals_beyond_the_quota_are_refused_but_not_recorded(world: World, store: str) -> None:
    with in_minute(0):
        refused(world, world.bob_key, times=RECORDED_PER_MINUTE + 2)
    events = refusals_of(world, world.bob.arn)
    assert len(events) == RECORDED_PER_MINUTE
    assert events[-1].details["RecordingLimitReached"] == LIMIT_REACHED
    assert "RecordingLimitReached" not in events[-2].details


def test_the_next_refusal_recorded_says_how_many_were_not(world: World, store: str) -> None:
    with in_minute(0):
        refused(world, world.bob_key, times=RECORDED_PER_MINUTE + 3)
    with in_minute(1):
        refused(world, world.bob_key)
    events = refusals_of(world, world.bob.arn)
    assert len(events) == RECORDED_PER_MINUTE + 1
    assert events[-1].details["SuppressedRefusals"] == 3


def test_the_quota_is_each_callers_own(world: World) -> None:
    root_b = f"acs:ram::{world.company_b.pk}:root"
    with in_minute(0):
        refused(world, world.bob_key, times=RECORDED_PER_MINUTE + 1)
        refused(world, world.root_b_key)
    assert len(refusals_of(world, root_b)) == 1


def test_the_quota_is_per_target_account(world: World) -> None:
    elsewhere = f"acs:ram::{world.company_b.pk}:role/anything"
    with in_minute(0):
        refused(world, world.bob_key, times=RECORDED_PER_MINUTE + 1)
        refused(world, world.bob_key, role_arn=elsewhere)
    assert len(refusals_of(world, world.bob.arn, account_id=world.company_b.pk)) == 1
