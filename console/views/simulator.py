"""Console: simulator (being written)."""

from __future__ import annotations

urlpatterns: list = []
