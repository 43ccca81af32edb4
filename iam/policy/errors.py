"""The one error type of the policy language and the Alibaba Cloud codes it carries."""

from __future__ import annotations

# Grammar errors: RAM answers MalformedPolicyDocument for permission and trust policies, STS
# answers InvalidParameter.PolicyGrammar for the session policy given to AssumeRole.
MALFORMED_POLICY_DOCUMENT = "MalformedPolicyDocument"
SESSION_POLICY_GRAMMAR = "InvalidParameter.PolicyGrammar"

# Size errors.
POLICY_DOCUMENT_LENGTH = "InvalidParameter.PolicyDocument.Length"
TRUST_POLICY_DOCUMENT_LENGTH = "InvalidParameter.AssumeRolePolicyDocument.Length"
SESSION_POLICY_SIZE = "InvalidParameter.PolicySize"


def gettext(message: str) -> str:
    """``message`` in the language of the Django request being answered (the console's), or as
    written where Django is not set up: the policy language runs without Django too (the
    benchmark), so Django is imported here, at call time, never when ``iam.policy`` is imported.
    The API answers in English: its front door activates English."""
    try:
        from django.conf import settings
        from django.utils.translation import gettext as django_gettext
    except ImportError:  # pragma: no cover - Django is installed wherever the project runs
        return message
    if not settings.configured:
        return message
    return django_gettext(message)


def gettext_noop(message: str) -> str:
    """Marks ``message`` for translation where it is defined; ``gettext`` translates it when it
    is shown."""
    return message


def printable(text: str) -> str:
    """``text`` with each lone surrogate written as its JSON escape (``\\ud800``).

    Error texts echo what was sent, and a JSON ``\\u`` escape can produce half of a UTF-16
    surrogate pair, which has no UTF-8 encoding: a response carrying it could not be sent.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class PolicyError(Exception):
    """A policy document that cannot be accepted.

    ``code`` is the API error code, ``path`` the place in the document (``Statement[1].Condition.
    IpAddress.acs:SourceIp``; empty for the document as a whole), ``reason`` what is wrong there and
    ``message`` both together, ready for people. ``line``/``column`` (1-based) are set for JSON
    syntax errors only.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        path: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.code = code
        self.reason = printable(reason)
        self.path = printable(path)
        self.line = line
        self.column = column
        self.message = (
            gettext("%(path)s: %(reason)s") % {"path": self.path, "reason": self.reason}
            if path
            else self.reason
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
