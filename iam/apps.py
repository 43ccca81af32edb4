from __future__ import annotations

from django.apps import AppConfig


class IamConfig(AppConfig):
    name = "iam"
    verbose_name = "Identity and access management"
