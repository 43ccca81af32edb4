from __future__ import annotations

from django.apps import AppConfig


class StsConfig(AppConfig):
    name = "sts"
    verbose_name = "Security Token Service"

    def ready(self) -> None:
        # The API's actions register themselves on the RPC framework (``iam.rpc``).
        from sts import actions  # noqa: F401
