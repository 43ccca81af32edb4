"""Form pieces several console areas use: the services' name rules as field errors, a service's
error on the form, and one name chosen from a list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from iam import services
from iam.errors import ServiceError


def check_name(value: str, parameter: str, pattern: Any, max_length: int) -> str:
    """The service's own name rule, so every field error shows on the first submit."""
    try:
        return services.check_name(value, parameter, pattern, max_length)
    except ServiceError as error:
        raise ValidationError(error.plain) from error


def add_service_error(form: forms.Form, error: ServiceError) -> None:
    """The service's refusal in plain words, on its field when the form has one."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.plain)


class ChooseForm(forms.Form):
    """One name chosen from a list the view supplies (groups to join, users to add)."""

    name = forms.ChoiceField(label=gettext_lazy("Name"))

    def __init__(self, *args: Any, choices: list[str], label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [(choice, choice) for choice in choices]
        self.fields["name"].label = label
