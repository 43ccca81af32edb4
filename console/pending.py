"""A logon held between its steps: after a correct password, the session keeps only the user's
id, under a key of the step's own, until an expiry; the step's page reads the user back.

The password step (``views.credentials``: a new password first) and the MFA step
(``views.mfa``: a code, or a device to bind) hold a logon this way. Nobody is logged in while it
is held, and the session key is cycled first, so a session someone else knows the key of cannot
take the step.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from iam.models import User


def hold(request: HttpRequest, key: str, user: User, seconds: int, **state: Any) -> None:
    """Hold ``user``'s logon under ``key`` for ``seconds``, with what else the step keeps."""
    request.session.cycle_key()
    request.session[key] = {
        "user_id": user.pk,
        "expires": int(timezone.now().timestamp()) + seconds,
        **state,
    }


def held(request: HttpRequest, key: str) -> tuple[User, dict[str, Any]] | None:
    """The user whose logon is held under ``key``, and the step's state; None, and the state
    cleared, once it has expired or the user is gone or disabled."""
    state = request.session.get(key)
    if not state or state["expires"] <= int(timezone.now().timestamp()):
        request.session.pop(key, None)
        return None
    user = User.objects.select_related("account").filter(pk=state["user_id"]).first()
    if user is None or not user.is_active:
        request.session.pop(key, None)
        return None
    return user, state
