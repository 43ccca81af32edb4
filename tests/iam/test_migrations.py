"""Data steps of migrations, run forwards on a database holding rows of the older schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_one_version_per_account_moves_every_version_past_both_old_counters() -> None:
    """Sessions recorded their caller account's old authz_revision; no version may ever equal a
    recorded one again, or a re-check a change calls for would be skipped."""
    executor = MigrationExecutor(connection)
    before, after = [("iam", "0003_account_version")], [("iam", "0004_one_version_per_account")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("iam", "Account")
    old.objects.create(id="1111222233334444", alias="ahead", authz_revision=7, version=2)
    old.objects.create(id="5555666677778888", alias="behind", authz_revision=1, version=4)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("iam", "Account")
    assert dict(new.objects.values_list("alias", "version")) == {"ahead": 8, "behind": 5}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
