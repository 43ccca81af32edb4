"""Why a role session ended or was revoked, in the page's language.

``sts.sessions`` and the services store the reason in English (it is data: the API, the trail and
every reader see the same words). The console says the reasons it knows again in its own
language, with the names they hold; a reason it does not know is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

Wording = Callable[[], str]

REASONS: list[tuple[re.Pattern[str], Wording]] = [
    (re.compile(r"revoked by an administrator"), lambda: _("revoked by an administrator")),
    (re.compile(r"the role session was revoked"), lambda: _("the role session was revoked")),
    (
        re.compile(r"an administrator revoked the active sessions of role (?P<role>\S+)"),
        lambda: _("an administrator revoked the active sessions of role %(role)s"),
    ),
    (re.compile(r"role (?P<role>\S+) was deleted"), lambda: _("role %(role)s was deleted")),
    (re.compile(r"user (?P<user>\S+) was deleted"), lambda: _("user %(user)s was deleted")),
    (re.compile(r"user (?P<user>\S+) was disabled"), lambda: _("user %(user)s was disabled")),
    (
        re.compile(r"user (?P<user>\S+) no longer holds sts:AssumeRole on role (?P<role>\S+)"),
        lambda: _("user %(user)s no longer holds sts:AssumeRole on role %(role)s"),
    ),
    (
        re.compile(r"the trust policy of role (?P<role>\S+) no longer trusts (?P<caller>\S+)"),
        lambda: _("the trust policy of role %(role)s no longer trusts %(caller)s"),
    ),
    (re.compile(r"switched back"), lambda: _("switched back")),
    (re.compile(r"logged off"), lambda: _("logged off")),
    (re.compile(r"switched to role (?P<role>\S+)"), lambda: _("switched to role %(role)s")),
    (re.compile(r"signed in as (?P<arn>\S+)"), lambda: _("signed in as %(arn)s")),
    (
        re.compile(r"returned to the logon identity: (?P<reason>.+)"),
        lambda: _("returned to the logon identity: %(reason)s"),
    ),
    (
        re.compile(r"the role session ended \((?P<reason>.+)\)"),
        lambda: _("the role session ended (%(reason)s)"),
    ),
]


def in_words(reason: str) -> str:
    """``reason`` in the active language when it is one the console knows, else as stored."""
    for pattern, wording in REASONS:
        match = pattern.fullmatch(reason)
        if match:
            values = match.groupdict()
            if "reason" in values:
                values["reason"] = in_words(values["reason"])
            return wording() % values
    return reason
