from __future__ import annotations

from django.apps import AppConfig


class IamConfig(AppConfig):
    name = "iam"
    verbose_name = "Identity and access management"

    def ready(self) -> None:
        # The API's actions register themselves on the RPC framework (``iam.rpc``).
        from iam import api, mfa_api, provider_api, security_api, tag_api  # noqa: F401
