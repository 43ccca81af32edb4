"""``{% tag_card resource %}``: the Tags card of a role, RAM user or custom policy on its details
page, with the decisions (``*_reason``) taken in ``console.views.tags.card_context``."""

from __future__ import annotations

from typing import Any

from django import template

from console.views.tags import card_context, taggable
from iam.models import Policy, Role, User

register = template.Library()


@register.inclusion_tag("console/tags/_card.html", takes_context=True)
def tag_card(context: template.Context, resource: Role | User | Policy) -> dict[str, Any]:
    if not taggable(resource):
        return {"hidden": True}
    return {"csrf_token": context.get("csrf_token"), **card_context(context["request"], resource)}
