"""The policy language is pure Python: its tests need neither Django settings nor a database."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fresh_policy_caches() -> None:
    """Module-level caches start empty in every test, so no test sees another's entries."""
    from iam.policy import clear_caches

    clear_caches()
