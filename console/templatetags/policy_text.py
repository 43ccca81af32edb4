"""Policy texts in the page's language: ``{% load policy_text %}{{ policy|policy_description }}``."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from iam.models import Policy

register = template.Library()


@register.filter
def policy_description(policy: Policy) -> str:
    """A system policy's description translated (its English text is marked in
    ``iam.system_policies``, as Alibaba's Chinese console shows them in Chinese); a custom
    policy's description is the account's own words, shown as written."""
    if policy.is_system and policy.description:
        return gettext(policy.description)
    return policy.description
