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
        message = printable(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.plain = printable(plain) if plain else PLAIN_MESSAGES.get(code, message)
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


# The console's words for the API's fixed texts, by error code (the API keeps Alibaba's).
PLAIN_MESSAGES = {
    "EntityAlreadyExists.User": "A user with this name already exists.",
    "EntityAlreadyExists.Group": "A group with this name already exists.",
    "EntityAlreadyExists.Role": "A role with this name already exists.",
    "EntityAlreadyExists.Policy": "A policy with this name already exists.",
    "EntityAlreadyExists.User.Group": "The user is already a member of the group.",
    "EntityAlreadyExists.User.LoginProfile": "The user already has a console password.",
    "EntityNotExist.User.LoginProfile": "The user has no console password.",
    "InvalidParameter.MaxSessionDuration": "Enter a number of seconds from 3600 to 43200.",
    "InvalidParameter.NewMaxSessionDuration": "Enter a number of seconds from 3600 to 43200.",
    "MissingAssumeRolePolicyDocument": "Enter a trust policy.",
    "LimitExceeded.User": "The account has as many users as it may have.",
    "LimitExceeded.Group": "The account has as many groups as it may have.",
    "LimitExceeded.Role": "The account has as many roles as it may have.",
    "LimitExceeded.Policy": "The account has as many custom policies as it may have.",
    "LimitExceeded.Policy.Version": (
        "The policy has as many versions as it may have: delete one that is not the default."
    ),
    "LimitExceeded.User.AccessKey": (
        "The user has as many access keys as it may have: delete one first."
    ),
    "DeleteConflict.User.AccessKey": "Delete the user's access keys first.",
    "DeleteConflict.User.LoginProfile": "Remove the user's console password first.",
    "DeleteConflict.User.Policy": "Remove the user's policies first.",
    "DeleteConflict.User.Group": "Remove the user from its groups first.",
    "DeleteConflict.Group.User": "Remove the group's members first.",
    "DeleteConflict.Group.Policy": "Remove the group's policies first.",
    "DeleteConflict.Role.Policy": "Remove the role's policies first.",
    "DeleteConflict.Policy.User": "Detach the policy from every user first.",
    "DeleteConflict.Policy.Group": "Detach the policy from every group first.",
    "DeleteConflict.Policy.Role": "Detach the policy from every role first.",
    "DeleteConflict.Policy.Version": "Delete the policy's versions other than the default first.",
    "DeleteConflict.Policy.Version.Default": (
        "The default version cannot be deleted: make another version the default first."
    ),
}

# What a parameter is called in a form when its name does not say it.
NOUNS = {"AssumeRolePolicyDocument": "trust policy"}
MARKS = {".": "dots (.)", "-": "hyphens (-)", "_": "underscores (_)", "@": "at signs (@)"}


def invalid_chars(
    parameter: str, field: str | None = None, *, allowed: re.Pattern[str] | None = None
) -> InvalidParameter:
    """``allowed``, the name's pattern, gives the console's words for the characters it takes."""
    plain = f"Use only {allowed_characters(allowed)}." if allowed else None
    return InvalidParameter(
        f"InvalidParameter.{parameter}.InvalidChars",
        f'The parameter - "{parameter}" contains invalid chars.',
        field=field,
        plain=plain or f"The {noun(parameter)} contains characters that are not allowed.",
    )


def beyond_length(
    parameter: str, field: str | None = None, *, limit: int | None = None, empty: bool = False
) -> InvalidParameter:
    """Alibaba says "beyond the length limit" for an empty name too; the console does not."""
    name = noun(parameter)
    if empty:
        plain = f"Enter {article(name)} {name}."
    elif limit is None:
        plain = f"The {name} is too long."
    else:
        verb = "have" if name.endswith("s") else "has"
        subject = name.capitalize() if verb == "have" else f"{article(name).title()} {name}"
        plain = f"{subject} {verb} at most {limit} characters."
    return InvalidParameter(
        f"InvalidParameter.{parameter}.Length",
        f'The parameter - "{parameter}" beyond the length limit.',
        field=field,
        plain=plain,
    )


def noun(parameter: str) -> str:
    """``NewRoleName`` -> ``role name``: what a form calls the parameter."""
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
        words.append("letters" if lower and upper else "lower-case letters")
    if pattern.match("0"):
        words.append("digits")
    words += [MARKS.get(mark, f"'{mark}'") for mark in string.punctuation if pattern.match(mark)]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


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
