"""Console sessions of federated users (role-based SSO): the browser works as a role session from
the start, with no RAM user behind it.

A SAML response posted to our ACS, or an OIDC sign-in, ends in ``start`` with a role session
issued through AssumeRole's code path (``sts.federation``, channel "console"); its id and what
the banner shows are kept in the Django session. On every request ``apply`` re-checks it as
Switch Role does (``sts.sessions.check_session``: revoked, role deleted, trust withdrawn,
expired) and signs the browser out when it no longer stands. There is no logon identity to
switch back to: the logon identity is the role session itself (as Alibaba Cloud shows it,
``<role>/<RoleSessionName>``), and the menu offers Log off.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from console.session_reasons import in_words
from iam.identity import FederatedInfo
from sts.assume import IssuedRoleSession
from sts.sessions import check_session, end_session, session_identity

SESSION_KEY = "federated_role"


def start(request: HttpRequest, issued: IssuedRoleSession, federated: FederatedInfo) -> None:
    """Sign the browser in as the issued console role session (any earlier sign-in ends)."""
    end(request, "signed in again through single sign-on")
    logout(request)  # a new session key, nothing of a previous user kept
    request.session[SESSION_KEY] = {
        "session_id": issued.session.session_id,
        "session_name": issued.session.session_name,
        "role_name": issued.role.name,
        "account_id": issued.role.account_id,
        "expires_at": int(issued.expiration.timestamp()),
        "provider_arn": federated.provider_arn,
        "provider_kind": federated.provider_kind,
        "provider_name": federated.provider_name,
        "subject": federated.subject,
    }


def state_of(request: HttpRequest) -> dict | None:
    return request.session.get(SESSION_KEY)


def apply(request: HttpRequest) -> HttpResponse | None:
    """Set ``request.identity`` (and ``request.logon_identity``) to the federated role session;
    a redirect to the logon page when it no longer stands, None to carry on."""
    state = state_of(request)
    if not state:
        return None
    if timezone.now().timestamp() >= state["expires_at"]:
        return signed_out(request, _("Your single sign-on session ended; sign in again."))
    checked = check_session(state["session_id"])
    if not checked.active:
        reason = checked.revoked_reason
        return signed_out(
            request, _("You were signed out: %(reason)s.") % {"reason": in_words(reason)}
        )
    identity = session_identity(
        checked,
        session_name=state["session_name"],
        expires_at=state["expires_at"],
        session_policy=None,
        source_identity=f"{state['provider_arn']}/{state['subject']}",
        source_account_id=state["account_id"],
    )
    request.identity = identity  # type: ignore[attr-defined]
    request.logon_identity = identity  # type: ignore[attr-defined]
    request.federated = state  # type: ignore[attr-defined]
    return None


def signed_out(request: HttpRequest, message: str) -> HttpResponse:
    end(request, "signed out")
    logout(request)
    messages.warning(request, message)
    return redirect("console:logon")


def end(request: HttpRequest, reason: str) -> None:
    state = state_of(request)
    if state:
        end_session(state["session_id"], reason)
