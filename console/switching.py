"""Switch Role in the console: the browser session's effective identity becomes a role session.

SwitchRole runs AssumeRole's checks (``sts.assume.assume_role``, channel "console") for the
logged-on RAM user; the issued role session's id is kept in the Django session. On every request
``apply_switched_role`` re-reads that session with the one indexed look-up of
``sts.sessions.check_session``: if it was revoked, its role deleted, its trust withdrawn, the user
lost ``sts:AssumeRole`` or was disabled, or it simply expired, the user is returned to the logon
identity with a message saying why, and that return is audited. The session key rotates on every
switch and switch back.

Leaving a role session ends it for good (``sts.sessions.end_session``: its end time and reason on
the RoleSession row): Switch Back, switching to another role, logging off, and every forced
return. The role's Sessions list then shows it as ended (or revoked), never as active. A session
that simply ran out is left to its expiry time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from console.session_reasons import in_words
from iam.audit import record
from iam.identity import Identity
from sts.sessions import check_session, end_session, session_identity

SESSION_KEY = "switched_role"


def switched_state(request: HttpRequest) -> dict | None:
    return request.session.get(SESSION_KEY)


def apply_switched_role(request: HttpRequest) -> HttpResponse | None:
    """Replace ``request.identity`` with the switched role session, if any. None: carry on."""
    state = switched_state(request)
    if not state:
        return None
    now = timezone.now()
    if now.timestamp() >= state["expires_at"]:
        return_to_logon_identity(
            request,
            "console:SwitchRoleExpired",
            _("Your session as role %(name)s ended; you are back to your logon identity.")
            % {"name": state["role_name"]},
        )
        return None
    checked = check_session(state["session_id"])
    if not checked.active:
        return_to_logon_identity(
            request,
            "console:ForcedSwitchBack",
            _("You were returned to your logon identity: %(reason)s.")
            % {"reason": in_words(checked.revoked_reason)},
            reason=checked.revoked_reason,
            end_reason=f"returned to the logon identity: {checked.revoked_reason}",
        )
        return None
    logon: Identity = request.logon_identity  # type: ignore[attr-defined]
    request.identity = session_identity(  # type: ignore[attr-defined]
        checked,
        session_name=state["session_name"],
        expires_at=state["expires_at"],
        session_policy=None,
        source_identity=logon.arn,
        source_account_id=logon.account_id,
        display_name=state.get("display_name", ""),
        color=state.get("color", ""),
        # What the switch was issued with: the logon's MFA (``acs:MFAPresent`` in its trust
        # check) carries over to the role session.
        mfa_present=logon.mfa_present,
    )
    return None


def return_to_logon_identity(
    request: HttpRequest, action: str, message: str, reason: str = "", end_reason: str = ""
) -> None:
    """Back to the logon identity, audited; with ``end_reason``, the role session ends too."""
    from console.actor import console_actor

    state = request.session.pop(SESSION_KEY, None) or {}
    if end_reason and state.get("session_id"):
        end_session(state["session_id"], end_reason)
    request.session.cycle_key()
    request.identity = request.logon_identity  # type: ignore[attr-defined]
    actor = console_actor(request).with_request(
        effective_arn=state.get("session_arn", request.logon_identity.arn)
    )  # type: ignore[attr-defined]
    record(
        actor,
        action,
        state.get("role_arn", ""),
        account_id=state.get("account_id", ""),
        details={
            "RoleSessionName": state.get("session_name", ""),
            "SessionId": state.get("session_id", ""),
            "reason": reason,
        },
    )
    level = messages.INFO if action == "console:SwitchBack" else messages.WARNING
    messages.add_message(request, level, message)


def remember_switch(request: HttpRequest, state: dict) -> None:
    end_switched_role(request, f"switched to role {state['role_name']}")
    request.session.cycle_key()
    request.session[SESSION_KEY] = state


def end_switched_role(request: HttpRequest, reason: str) -> None:
    """End the role session this browser session works in, if any (log off, another switch)."""
    state = switched_state(request)
    if state and state.get("session_id"):
        end_session(state["session_id"], reason)


def seconds_left(identity: Identity) -> int:
    if identity.session is None:
        return 0
    return max(0, int(identity.session.expires_at - datetime.now(UTC).timestamp()))
