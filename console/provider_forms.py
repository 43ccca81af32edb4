"""Forms of the identity provider pages. They check shape and call ``iam.providers``' own checks
of each field, so every field error shows on the first submit; the services check again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iam import providers
from iam.errors import ServiceError

NAME_HELP = gettext_lazy(
    "Letters, digits, dots, hyphens and underscores, beginning and ending with a letter or "
    "digit; up to 128 characters. It is part of the provider's ARN and cannot be changed."
)
NAME_LABEL = gettext_lazy("Provider name")
DESCRIPTION_LABEL = gettext_lazy("Description")
LINES = {"rows": 4, "spellcheck": "false", "autocomplete": "off"}

# Service parameters whose console field has another name (``parameter_to_field`` of
# ``SAMLProviderName`` is not a form field's name).
FIELD_NAMES = {
    "s_a_m_l_provider_name": "name",
    "o_i_d_c_provider_name": "name",
    "new_description": "description",
}


def service_check(check: Callable[[Any], Any], value: Any) -> Any:
    """A service's field rule as a form field error."""
    try:
        return check(value)
    except ServiceError as error:
        raise ValidationError(error.plain) from error


def add_provider_error(form: forms.Form, error: ServiceError) -> None:
    """The service's refusal in plain words, next to its field when the form has one."""
    field = FIELD_NAMES.get(error.field or "", error.field)
    if field == "metadata" and isinstance(form, MetadataForm):
        field = form.metadata_source
    form.add_error(field if field in form.fields else None, error.plain)


def clean_provider_name(name: str) -> str:
    if not providers.PROVIDER_NAME_RE.match(name):
        raise ValidationError(NAME_HELP)
    return name


# --- SAML -----------------------------------------------------------------------------------------


class MetadataForm(forms.Form):
    """The IdP's metadata document: an uploaded file or pasted XML (one of the two)."""

    metadata_required = True

    metadata_file = forms.FileField(
        label=gettext_lazy("Metadata file"),
        required=False,
        help_text=gettext_lazy(
            "The SAML 2.0 metadata XML your identity provider publishes (at most 100 KB)."
        ),
        widget=forms.FileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )
    metadata_xml = forms.CharField(
        label=gettext_lazy("Or paste the metadata XML"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    @property
    def metadata_source(self) -> str:
        """The field the document came from, where its errors are shown."""
        return "metadata_file" if self.files.get("metadata_file") else "metadata_xml"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload, text = cleaned.get("metadata_file"), cleaned.get("metadata_xml", "")
        cleaned["metadata"] = None
        if upload and text:
            self.add_error("metadata_xml", _("Upload a file or paste the XML, not both."))
        elif upload:
            # One byte more than the limit is enough for the service to say it is too large.
            cleaned["metadata"] = upload.read(providers.METADATA_MAX_BYTES + 1)
        elif text:
            cleaned["metadata"] = text.encode("utf-8")
        elif self.metadata_required and not self.has_error("metadata_file"):
            self.add_error(
                "metadata_file",
                _("Upload the identity provider's metadata file, or paste its XML."),
            )
        return cleaned


class SAMLProviderCreateForm(MetadataForm):
    name = forms.CharField(label=NAME_LABEL, max_length=128, help_text=NAME_HELP)
    description = forms.CharField(label=DESCRIPTION_LABEL, max_length=256, required=False)

    field_order = ["name", "description", "metadata_file", "metadata_xml"]

    def clean_name(self) -> str:
        return clean_provider_name(self.cleaned_data["name"])


class SAMLProviderEditForm(MetadataForm):
    metadata_required = False

    description = forms.CharField(label=DESCRIPTION_LABEL, max_length=256, required=False)

    field_order = ["description", "metadata_file", "metadata_xml"]


# --- OIDC -----------------------------------------------------------------------------------------


class OIDCSettingsForm(forms.Form):
    """What an OIDC provider's owner may change: client IDs, fingerprints, issuance limit,
    description. The issuer URL is fixed (a new issuer is a new provider)."""

    client_ids = forms.CharField(
        label=gettext_lazy("Client IDs"),
        help_text=gettext_lazy(
            "One a line: the audiences (aud) of the ID tokens this account accepts."
        ),
        widget=forms.Textarea(attrs=LINES),
    )
    fingerprints = forms.CharField(
        label=gettext_lazy("Fingerprints"),
        help_text=gettext_lazy(
            "One a line: SHA-1 fingerprints (40 hexadecimal characters) of the issuer's HTTPS "
            "certificate chain; at most 5."
        ),
        widget=forms.Textarea(attrs=LINES),
    )
    issuance_limit_hours = forms.CharField(
        label=gettext_lazy("Issuance limit (hours)"),
        initial=providers.DEFAULT_ISSUANCE_LIMIT,
        help_text=gettext_lazy("How old an ID token may be when it is exchanged: 1 to 168 hours."),
        widget=forms.NumberInput(attrs={"min": 1, "max": providers.MAX_ISSUANCE_LIMIT}),
    )
    description = forms.CharField(label=DESCRIPTION_LABEL, max_length=256, required=False)

    def clean_client_ids(self) -> list[str]:
        value = providers.split_list(self.cleaned_data["client_ids"])
        return service_check(providers.check_client_ids, value)

    def clean_fingerprints(self) -> list[str]:
        value = providers.split_list(self.cleaned_data["fingerprints"])
        return service_check(providers.check_fingerprints, value)

    def clean_issuance_limit_hours(self) -> int:
        return service_check(
            providers.check_issuance_limit, self.cleaned_data["issuance_limit_hours"]
        )


class OIDCProviderCreateForm(OIDCSettingsForm):
    name = forms.CharField(label=NAME_LABEL, max_length=128, help_text=NAME_HELP)
    issuer_url = forms.CharField(
        label=gettext_lazy("Issuer URL"),
        max_length=255,
        help_text=gettext_lazy("The iss of the ID tokens: an https URL without query or fragment."),
        widget=forms.URLInput(attrs={"placeholder": "https://idp.example.com"}),
    )

    field_order = [
        "name",
        "issuer_url",
        "client_ids",
        "fingerprints",
        "issuance_limit_hours",
        "description",
    ]

    def clean_name(self) -> str:
        return clean_provider_name(self.cleaned_data["name"])

    def clean_issuer_url(self) -> str:
        return service_check(providers.check_issuer_url, self.cleaned_data["issuer_url"])
