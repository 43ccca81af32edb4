"""How many statements the hot API calls send once their rows are kept (``sts.row_cache``): the
nonce's statement (with the accounts' versions), then only the call's own writes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iam import services
from iam.audit import SYSTEM_ACTOR
from sts.models import RoleSession, UsedNonce
from tests.api.test_wire import assume, call

pytestmark = pytest.mark.django_db


def statements_of(client, *args, **params) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements a call sends for itself. Left out: the nonce store's occasional sweep of
    expired rows (one spend in a hundred, at random), housekeeping rather than the call's work;
    and savepoints, which a write opens only inside a transaction, here the test's own (a server
    runs in autocommit)."""
    with CaptureQueriesContext(connection) as captured:
        response = call(client, *args, **params)
    assert response.status_code == 200, response.content
    sweep = f"DELETE FROM {connection.ops.quote_name(UsedNonce._meta.db_table)}"
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].lstrip().startswith((sweep, "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def nonce_statements() -> int:
    """PostgreSQL spends the nonce and reads the versions in one statement; SQLite in two."""
    return 1 if connection.vendor == "postgresql" else 2


def test_assume_role_by_a_key_seen_before_only_spends_its_nonce_and_writes(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    for _ in range(2):  # learn the key's secret, then keep its row and the role's
        assume(client, role, key_id, secret)
    statements = statements_of(
        client, "AssumeRole", key_id, secret, RoleArn=role.arn, RoleSessionName="count"
    )
    # The nonce (and versions); then the session row and its audit event, written together (one
    # statement on PostgreSQL, one transaction of two on SQLite).
    assert len(statements) == 2 * nonce_statements(), statements
    assert not [sql for sql in statements if '"iam_accesskey"' in sql or 'FROM "iam_role"' in sql]


def test_a_role_name_in_another_case_is_the_same_role(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    arn = role.arn.rsplit("/", 1)[0] + "/" + role.name.upper()
    response = call(client, "AssumeRole", key_id, secret, RoleArn=arn, RoleSessionName="case")
    assert response.status_code == 200, response.content
    assert response.json()["AssumedRoleUser"]["Arn"] == f"{role.arn}/case"


def test_a_missing_role_read_with_the_key_is_not_found(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    arn = role.arn.rsplit("/", 1)[0] + "/no-such-role"
    response = call(client, "AssumeRole", key_id, secret, RoleArn=arn, RoleSessionName="gone")
    assert (response.status_code, response.json()["Code"]) == (404, "EntityNotExist.Role")


def test_without_sts_assume_role_the_role_read_with_the_key_reveals_nothing(  # type: ignore[no-untyped-def]
    client, setup, account_a
) -> None:
    role, _, _ = setup
    stranger = services.create_user(SYSTEM_ACTOR, account_a, "stranger")
    key = services.create_access_key(SYSTEM_ACTOR, stranger)
    for arn in (role.arn, role.arn.rsplit("/", 1)[0] + "/no-such-role"):
        response = call(
            client,
            "AssumeRole",
            key.access_key.access_key_id,
            key.secret,
            RoleArn=arn,
            RoleSessionName="probe",
        )
        assert (response.status_code, response.json()["Code"]) == (403, "NoPermission")


def test_get_caller_identity_costs_only_the_nonces_statement(client, setup) -> None:  # type: ignore[no-untyped-def]
    role, key_id, secret = setup
    for _ in range(2):  # the key's last_used is stamped once a minute; its row is then kept
        call(client, "GetCallerIdentity", key_id, secret)
    credentials = assume(client, role, key_id, secret)
    sts_key = (credentials["AccessKeyId"], credentials["AccessKeySecret"])
    token = credentials["SecurityToken"]
    call(client, "GetCallerIdentity", *sts_key, token=token)
    with_key = statements_of(client, "GetCallerIdentity", key_id, secret)
    with_role = statements_of(client, "GetCallerIdentity", *sts_key, token=token)
    assert (len(with_key), len(with_role)) == (nonce_statements(), nonce_statements())
    assert not [sql for sql in with_key + with_role if '"sts_rolesession"' in sql]


def test_the_session_table_has_no_pattern_index_on_its_id() -> None:
    """Every AssumeRole inserts a session row: each index on the table is paid for there, and a
    ``varchar_pattern_ops`` index on the random session id serves no query."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: no other backend adds pattern indexes (CI runs PostgreSQL)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s",
            [RoleSession._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert definitions and not [sql for sql in definitions if "pattern_ops" in sql], definitions
