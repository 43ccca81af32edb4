"""A few filters for the console templates."""

from __future__ import annotations

import time

from django import template

register = template.Library()


@register.filter
def time_left(expires_at: int) -> str:
    """``42:07 left`` for an epoch expiry (the banner's JavaScript keeps it counting)."""
    left = max(0, int(expires_at) - int(time.time()))
    if not left:
        return "expired"
    return f"{left // 60}:{left % 60:02d} left"
