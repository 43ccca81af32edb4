"""Errors raised by the services, each carrying the Alibaba Cloud error code and HTTP status.

The RAM/STS API answers with ``code``/``message``/``http_status``: ``message`` is Alibaba's own text
(``The parameter - "RoleName" beyond the length limit.``), which SDK users search for. The console
shows ``plain`` instead, next to ``field`` when the error belongs to a form field: the same
refusal in the words of a form (``Enter a role name.``). Both are printable: a lone surrogate
echoed from a JSON escape is written as its escape, so every response that carries them encodes.
"""

from __future__ import annotations

import re
import string
from typing import Any

from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext

from iam.policy.errors import printable


class ServiceError(Exception):
    """Every refusal: Alibaba's ``code`` and ``message`` with the ``http_status`` the API answers
    with; ``field`` and ``plain`` for console forms; ``detail`` for the API's
    ``AccessDeniedDetail``. Signature, token and authorization errors are kinds of it."""

    http_status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        field: str | None = None,
        plain: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        message = printable(str(message))
        super().__init__(message)
        self.code = code
        self.message = message
        self.plain = printable(str(plain or PLAIN_MESSAGES.get(code, message)))
        self.field = field
        self.detail = detail
        if http_status is not None:
            self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidParameter(ServiceError):
    http_status = 400


class EntityNotExist(ServiceError):
    http_status = 404


class EntityAlreadyExists(ServiceError):
    http_status = 409


class DeleteConflict(ServiceError):
    http_status = 409


class LimitExceeded(ServiceError):
    http_status = 409


class NoPermission(ServiceError):
    http_status = 403


class AuthenticationFailed(ServiceError):
    """An identity provider's assertion or token that does not prove who it claims
    (AssumeRoleWithSAML/OIDC, console single sign-on)."""

    http_status = 401


class ServiceUnavailable(ServiceError):
    http_status = 503


# The console's words for the API's fixed texts, by error code (the API keeps Alibaba's), in the
# language of the page: translated when the error is raised.
PLAIN_MESSAGES = {
    "EntityAlreadyExists.User": gettext_lazy("A user with this name already exists."),
    "EntityAlreadyExists.Group": gettext_lazy("A group with this name already exists."),
    "EntityAlreadyExists.Role": gettext_lazy("A role with this name already exists."),
    "EntityAlreadyExists.Policy": gettext_lazy("A policy with this name already exists."),
    "EntityAlreadyExists.AccountAlias": gettext_lazy("Another account already uses this alias."),
    "EntityAlreadyExists.Email": gettext_lazy("An account with this email already exists."),
    "EntityAlreadyExists.User.Group": gettext_lazy("The user is already a member of the group."),
    "EntityAlreadyExists.User.LoginProfile": gettext_lazy(
        "The user already has a console password."
    ),
    "EntityAlreadyExists.VirtualMFADevice.User": gettext_lazy(
        "The virtual MFA device is already bound to a user."
    ),
    "EntityAlreadyExists.ClientId": gettext_lazy(
        "The identity provider already has this client ID."
    ),
    "EntityAlreadyExists.Fingerprint": gettext_lazy(
        "The identity provider already has this fingerprint."
    ),
    "EntityNotExist.User": gettext_lazy("The user does not exist."),
    "EntityNotExist.Group": gettext_lazy("The group does not exist."),
    "EntityNotExist.Role": gettext_lazy("The role does not exist."),
    "EntityNotExist.Policy": gettext_lazy("The policy does not exist."),
    "EntityNotExist.Policy.Version": gettext_lazy("The policy version does not exist."),
    "EntityNotExist.User.Group": gettext_lazy("The user is not a member of the group."),
    "EntityNotExist.User.AccessKey": gettext_lazy("The AccessKey does not exist."),
    "EntityNotExist.User.LoginProfile": gettext_lazy("The user has no console password."),
    "EntityNotExist.User.MFADevice": gettext_lazy("The user has no MFA device."),
    "EntityNotExist.VirtualMFADevice": gettext_lazy("The virtual MFA device does not exist."),
    "EntityNotExist.SAMLProvider": gettext_lazy("The identity provider does not exist."),
    "EntityNotExist.OIDCProvider": gettext_lazy("The identity provider does not exist."),
    "EntityNotExist.ClientId": gettext_lazy("The identity provider has no such client ID."),
    "EntityNotExist.Fingerprint": gettext_lazy("The identity provider has no such fingerprint."),
    "InvalidParameter.MaxSessionDuration": gettext_lazy(
        "Enter a number of seconds from 3600 to 43200."
    ),
    "InvalidParameter.NewMaxSessionDuration": gettext_lazy(
        "Enter a number of seconds from 3600 to 43200."
    ),
    "InvalidParameter.Password.TooWeak": gettext_lazy(
        "The password must be 8-128 characters and contain letters and digits or symbols."
    ),
    "MissingAssumeRolePolicyDocument": gettext_lazy("Enter a trust policy."),
    "LimitExceeded.User": gettext_lazy("The account has as many users as it may have."),
    "LimitExceeded.Group": gettext_lazy("The account has as many groups as it may have."),
    "LimitExceeded.Role": gettext_lazy("The account has as many roles as it may have."),
    "LimitExceeded.Policy": gettext_lazy("The account has as many custom policies as it may have."),
    "LimitExceeded.Policy.Version": gettext_lazy(
        "The policy has as many versions as it may have: delete one that is not the default."
    ),
    "LimitExceeded.User.AccessKey": gettext_lazy(
        "The user has as many access keys as it may have: delete one first."
    ),
    "LimitExceeded.VirtualMFADevice": gettext_lazy(
        "The account has as many virtual MFA devices as it may have."
    ),
    "LimitExceeded.SAMLProvider": gettext_lazy(
        "The account has as many SAML identity providers as it may have."
    ),
    "LimitExceeded.OIDCProvider": gettext_lazy(
        "The account has as many OIDC identity providers as it may have."
    ),
    "DeleteConflict.User.AccessKey": gettext_lazy("Delete the user's access keys first."),
    "DeleteConflict.User.LoginProfile": gettext_lazy("Remove the user's console password first."),
    "DeleteConflict.User.Policy": gettext_lazy("Remove the user's policies first."),
    "DeleteConflict.User.Group": gettext_lazy("Remove the user from its groups first."),
    "DeleteConflict.Group.User": gettext_lazy("Remove the group's members first."),
    "DeleteConflict.Group.Policy": gettext_lazy("Remove the group's policies first."),
    "DeleteConflict.Role.Policy": gettext_lazy("Remove the role's policies first."),
    "DeleteConflict.Policy.User": gettext_lazy("Detach the policy from every user first."),
    "DeleteConflict.Policy.Group": gettext_lazy("Detach the policy from every group first."),
    "DeleteConflict.Policy.Role": gettext_lazy("Detach the policy from every role first."),
    "DeleteConflict.Policy.Version": gettext_lazy(
        "Delete the policy's versions other than the default first."
    ),
    "DeleteConflict.Policy.Version.Default": gettext_lazy(
        "The default version cannot be deleted: make another version the default first."
    ),
    "ServiceUnavailable": gettext_lazy(
        "The service is busy with other changes; nothing was changed. Please try again."
    ),
}

# What a form calls a parameter (without ``New``), translated when the error is raised; a
# parameter not listed is spelled out from its name (``MobilePhone`` -> ``mobile phone``).
NOUNS = {
    "UserName": gettext_noop("user name"),
    "DisplayName": gettext_noop("display name"),
    "Email": gettext_noop("email"),
    "MobilePhone": gettext_noop("mobile phone"),
    "Comments": gettext_noop("comments"),
    "GroupName": gettext_noop("group name"),
    "RoleName": gettext_noop("role name"),
    "PolicyName": gettext_noop("policy name"),
    "Description": gettext_noop("description"),
    "PolicyDocument": gettext_noop("policy document"),
    "AssumeRolePolicyDocument": gettext_noop("trust policy"),
    "VirtualMFADeviceName": gettext_noop("virtual MFA device name"),
}
MARKS = {
    ".": gettext_noop("dots (.)"),
    "-": gettext_noop("hyphens (-)"),
    "_": gettext_noop("underscores (_)"),
    "@": gettext_noop("at signs (@)"),
}


def invalid_chars(
    parameter: str, field: str | None = None, *, allowed: re.Pattern[str] | None = None
) -> InvalidParameter:
    """``allowed``, the name's pattern, gives the console's words for the characters it takes."""
    if allowed:
        plain = gettext("Use only %(characters)s.") % {"characters": allowed_characters(allowed)}
    else:
        plain = gettext("The %(name)s contains characters that are not allowed.") % {
            "name": gettext(noun(parameter))
        }
    return InvalidParameter(
        f"InvalidParameter.{parameter}.InvalidChars",
        f'The parameter - "{parameter}" contains invalid chars.',
        field=field,
        plain=plain,
    )


def beyond_length(
    parameter: str, field: str | None = None, *, limit: int | None = None, empty: bool = False
) -> InvalidParameter:
    """Alibaba says "beyond the length limit" for an empty name too; the console does not."""
    return InvalidParameter(
        f"InvalidParameter.{parameter}.Length",
        f'The parameter - "{parameter}" beyond the length limit.',
        field=field,
        plain=too_long(noun(parameter), limit=limit, empty=empty),
    )


def too_long(name: str, *, limit: int | None, empty: bool) -> str:
    """``Enter a role name.``, ``A role name has at most 64 characters.``, ``Comments have at
    most 128 characters.``: the English noun chooses the sentence (its article, its number)."""
    words = {"name": gettext(name), "limit": limit}
    an = article(name) == "an"
    if empty:
        sentence = gettext("Enter an %(name)s.") if an else gettext("Enter a %(name)s.")
    elif limit is None:
        sentence = gettext("The %(name)s is too long.")
    elif name.endswith("s"):
        words["name"] = words["name"].capitalize()
        sentence = gettext("%(name)s have at most %(limit)s characters.")
    elif an:
        sentence = gettext("An %(name)s has at most %(limit)s characters.")
    else:
        sentence = gettext("A %(name)s has at most %(limit)s characters.")
    return sentence % words


def noun(parameter: str) -> str:
    """``NewRoleName`` -> ``role name``: what a form calls the parameter (in English)."""
    base = parameter.removeprefix("New") if parameter[3:4].isupper() else parameter
    return NOUNS.get(base) or re.sub(r"(?<!^)(?=[A-Z])", " ", base).lower()


def article(word: str) -> str:
    return "an" if word[:1] in "aeio" else "a"  # a user name, an email


def allowed_characters(pattern: re.Pattern[str]) -> str:
    """The characters a one-character-class name pattern takes, in words: ``letters, digits,
    hyphens (-) and dots (.)``. Read from the pattern itself, so they cannot drift from the rule."""
    words = []
    lower, upper = bool(pattern.match("a")), bool(pattern.match("A"))
    if lower or upper:
        words.append(gettext("letters") if lower and upper else gettext("lower-case letters"))
    if pattern.match("0"):
        words.append(gettext("digits"))
    words += [
        gettext(MARKS[mark]) if mark in MARKS else f"'{mark}'"
        for mark in string.punctuation
        if pattern.match(mark)
    ]
    if len(words) < 2:
        return "".join(words)
    listed = pgettext("between the items of a list", ", ").join(words[:-1])
    return gettext("%(items)s and %(last)s") % {"items": listed, "last": words[-1]}


# SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED) and PostgreSQL's lock_not_available,
# deadlock_detected and serialization_failure: the statement lost a race for a lock and nothing it
# did was kept, so the whole request may simply be tried again.
BUSY_SQLITE_CODES = frozenset({5, 6})
BUSY_POSTGRESQL_STATES = frozenset({"55P03", "40P01", "40001"})

BUSY_MESSAGE = "The service is busy with other changes; nothing was changed. Please try again."


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` is a database error that a retry of the whole request may cure."""
    cause = error.__cause__ or error
    if getattr(cause, "sqlite_errorcode", None) is not None:
        return cause.sqlite_errorcode & 0xFF in BUSY_SQLITE_CODES  # type: ignore[attr-defined]
    return getattr(cause, "sqlstate", None) in BUSY_POSTGRESQL_STATES
