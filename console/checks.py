"""System checks of the deployment (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

TOKEN_KEYS_FALL_BACK = Warning(
    "TOKEN_KEYS is not set: role tokens and stored secrets (access key secrets, MFA seeds) are "
    "keyed from SECRET_KEY, so rotating SECRET_KEY makes every stored secret unreadable and every "
    "role token invalid.",
    hint=(
        "Give TOKEN_KEYS a long random secret of its own, followed by the current SECRET_KEY so "
        "that what is stored stays readable: TOKEN_KEYS=<new secret>,<current SECRET_KEY>. "
        "SECRET_KEY can then be rotated on its own."
    ),
    id="ramconsole.W001",
)


@register(Tags.security, deploy=True)
def check_token_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the token keys are the fallback: SECRET_KEY itself, alone."""
    if list(settings.TOKEN_KEYS) == [settings.SECRET_KEY]:
        return [TOKEN_KEYS_FALL_BACK]
    return []
