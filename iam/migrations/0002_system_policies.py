"""Create the system policies (spec §5.6). Their documents never change after creation."""

from __future__ import annotations

from django.db import migrations

from iam.system_policies import SYSTEM_POLICIES, ensure_system_policies


def create_system_policies(apps, schema_editor):
    ensure_system_policies(apps.get_model("iam", "Policy"), apps.get_model("iam", "PolicyVersion"))


def remove_system_policies(apps, schema_editor):
    Policy = apps.get_model("iam", "Policy")
    Policy.objects.filter(account__isnull=True, name__in=[p[0] for p in SYSTEM_POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("iam", "0001_initial")]

    operations = [migrations.RunPython(create_system_policies, remove_system_policies)]
