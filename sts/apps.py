from __future__ import annotations

from django.apps import AppConfig


class StsConfig(AppConfig):
    name = "sts"
    verbose_name = "Security Token Service"
