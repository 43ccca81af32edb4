"""Errors raised by the services, each carrying the Alibaba Cloud error code and HTTP status.

The RAM/STS API answers with ``code``/``message``/``status`` as they are; the console shows
``message`` next to ``field`` when the error belongs to a form field.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(
        self, code: str, message: str, *, status: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidParameter(ServiceError):
    status = 400


class EntityNotExist(ServiceError):
    status = 404


class EntityAlreadyExists(ServiceError):
    status = 409


class DeleteConflict(ServiceError):
    status = 409


class LimitExceeded(ServiceError):
    status = 409


class NoPermission(ServiceError):
    status = 403


def invalid_chars(parameter: str, field: str | None = None) -> InvalidParameter:
    return InvalidParameter(
        f"InvalidParameter.{parameter}.InvalidChars",
        f'The parameter - "{parameter}" contains invalid chars.',
        field=field,
    )


def beyond_length(parameter: str, field: str | None = None) -> InvalidParameter:
    return InvalidParameter(
        f"InvalidParameter.{parameter}.Length",
        f'The parameter - "{parameter}" beyond the length limit.',
        field=field,
    )


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
