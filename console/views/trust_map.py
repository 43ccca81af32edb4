"""Console: trust_map (being written)."""

from __future__ import annotations

urlpatterns: list = []
