"""One sentence for people about a decision: who decided, or what was missing.

The sentence is in the language of the request being answered (the console's user's; the API
forces English): its words are translated when it is made (``iam.policy.errors.gettext``), so
``iam.policy`` needs no Django to be imported, nor to explain outside a request.
"""

from __future__ import annotations

from iam.policy.decision import (
    EXPLICIT_DENY,
    SESSION_POLICY_TYPE,
    TRUST_POLICY_TYPE,
    Decision,
    Reason,
)
from iam.policy.errors import gettext as _
from iam.policy.parse import TRUST

MAX_LISTED_REASONS = 3


def _policy_phrase(reason: Reason, policy_kind: str) -> str:
    if policy_kind == TRUST or reason.policy_type == TRUST_POLICY_TYPE:
        return _("the trust policy")
    if reason.policy_type == SESSION_POLICY_TYPE:
        return _("the session policy")
    name = reason.policy_name or "inline"
    if reason.policy_type == "System":
        phrase = _("system policy %(name)s") % {"name": name}
    elif reason.policy_type == "Custom":
        phrase = _("custom policy %(name)s") % {"name": name}
    else:
        phrase = _("%(type)s policy %(name)s") % {"type": reason.policy_type.lower(), "name": name}
    return f"{phrase} ({reason.version})" if reason.version else phrase


def _reasons_phrase(decision: Decision) -> str:
    phrases = [
        _("statement %(index)s of %(policy)s")
        % {"index": reason.statement_index, "policy": _policy_phrase(reason, decision.policy_kind)}
        for reason in decision.reasons
    ]
    if len(phrases) > MAX_LISTED_REASONS:
        more = len(phrases) - MAX_LISTED_REASONS + 1  # two at least
        phrases = [
            *phrases[: MAX_LISTED_REASONS - 1],
            _("%(count)s more statements") % {"count": more},
        ]
    if len(phrases) == 1:
        return phrases[0]
    if len(phrases) == 2:
        return _("%(first)s and %(last)s") % {"first": phrases[0], "last": phrases[1]}
    return _("%(first)s, %(second)s and %(last)s") % {
        "first": phrases[0],
        "second": phrases[1],
        "last": phrases[2],
    }


def explain(decision: Decision, *, principal_description: str, action: str, resource: str) -> str:
    """Explain ``decision`` for ``principal_description`` (e.g. "role ecs-admin") asking for
    ``action`` on ``resource``. Statement numbers are 0-based, like the paths of PolicyError."""
    words = {"principal": principal_description, "action": action, "resource": resource}
    if decision.allowed:
        return _("Allowed by %(reasons)s") % {"reasons": _reasons_phrase(decision)}
    if decision.effect == EXPLICIT_DENY:
        return _("Denied by %(reasons)s") % {"reasons": _reasons_phrase(decision)}
    if decision.policy_kind == TRUST:
        return (
            _(
                "Denied: the trust policy of %(resource)s does not let %(principal)s perform "
                "%(action)s"
            )
            % words
        )
    if decision.denied_by_session_policy:
        return (
            _(
                "Denied: the session policy does not allow %(action)s on %(resource)s for "
                "%(principal)s"
            )
            % words
        )
    return _("Denied: no policy of %(principal)s allows %(action)s on %(resource)s") % words
