"""Drop the ``varchar_pattern_ops`` index PostgreSQL's backend adds beside a CharField primary key.

It serves only ``LIKE 'prefix%'`` look-ups, which nothing runs on session ids, yet every
AssumeRole paid for one more B-tree insert at a random page. Equality look-ups use the primary key.
"""

from django.db import migrations

LIKE_INDEX = "sts_rolesession_session_id_cd541d25_like"


def drop_like_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def restore_like_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" '
            'ON "sts_rolesession" ("session_id" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("sts", "0002_session_indexes")]

    operations = [migrations.RunPython(drop_like_index, restore_like_index, elidable=False)]
