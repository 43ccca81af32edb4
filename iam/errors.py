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
