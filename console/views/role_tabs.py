"""Role details as tabs, as in Alibaba's console: Basic information, Permissions, Trust policy,
Sessions, Events and Who can assume.

Each tab has a URL of its own and is a whole page without JavaScript. A tab link swaps the tab
strip and its panel (``#role-tabs``) through htmx and pushes the URL; a card that refreshes
itself (``hx-target`` its own id) gets the card alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from console.http import ConsoleRequest, account_resource, denial_reason
from console.views.common import is_fragment_request
from iam.models import Role

PAGE = "console/roles/detail.html"
TABS_FRAGMENT = "console/roles/_tabs.html"
TABS_TARGET = "role-tabs"


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str | Promise
    url_name: str
    template: str
    card_id: str


TABS = (
    Tab(
        "basic",
        _("Basic information"),
        "console:role_detail",
        "console/roles/_basic.html",
        "role-basic",
    ),
    Tab(
        "permissions",
        _("Permissions"),
        "console:role_permissions",
        "console/roles/_permissions.html",
        "role-permissions",
    ),
    Tab(
        "trust", _("Trust policy"), "console:role_trust", "console/roles/_trust.html", "role-trust"
    ),
    Tab(
        "sessions",
        _("Sessions"),
        "console:role_sessions",
        "console/switch_role/_sessions.html",
        "role-sessions-list",
    ),
    Tab(
        "events",
        _("Events"),
        "console:role_events",
        "console/audit/_role_events.html",
        "role-events",
    ),
    Tab(
        "who",
        _("Who can assume"),
        "console:role_who_can_assume",
        "console/audit/_who_can_assume.html",
        "role-who-can-assume",
    ),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}


@dataclass(frozen=True)
class TabLink:
    tab: Tab
    url: str
    current: bool
    disabled_reason: str


def tab_url(role: Role, slug: str) -> str:
    return reverse(TAB_BY_SLUG[slug].url_name, args=[role.name])


def tab_links(request: ConsoleRequest, role: Role, current: str) -> list[TabLink]:
    """The strip; Events is marked unavailable, with the reason, to whom the trail is denied."""
    events_reason = denial_reason(
        request, "ram:ListAuditEvents", account_resource(request, "audit")
    )
    return [
        TabLink(
            tab,
            tab_url(role, tab.slug),
            tab.slug == current,
            events_reason if tab.slug == "events" else "",
        )
        for tab in TABS
    ]


def render_role_tab(
    request: ConsoleRequest, role: Role, slug: str, context: dict[str, Any]
) -> HttpResponse:
    """The tab's card to a card refreshing itself, the strip and panel to a tab link, else the
    whole page with this tab open."""
    tab = TAB_BY_SLUG[slug]
    if is_fragment_request(request, tab.card_id):
        return render(request, tab.template, {"role": role, **context})
    full_context = {
        "role": role,
        "tab": tab,
        "tab_links": tab_links(request, role, slug),
        **context,
    }
    template = TABS_FRAGMENT if is_fragment_request(request, TABS_TARGET) else PAGE
    return render(request, template, full_context)
