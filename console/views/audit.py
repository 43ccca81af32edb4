"""Console: audit (being written)."""

from __future__ import annotations

urlpatterns: list = []
