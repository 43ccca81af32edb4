"""What every console area answers the same way: htmx fragments or pages, dialogs, 204s with
events, redirects after a change, paging and search boxes.

One place each, so a list, a dialog or a change answers alike in roles, users, groups, policies,
the audit trail and the simulator.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from console.http import ConsoleRequest

PAGE_SIZE = 50
MAX_PAGE = 100_000

# --- fragments, dialogs and answers to a change -------------------------------------------------


def is_fragment_request(request: ConsoleRequest, target: str) -> bool:
    """An htmx request that swaps only the element ``#target`` (a table, a list in a dialog)."""
    return bool(request.htmx) and not request.htmx.boosted and request.htmx.target == target


def fragment_or_page(
    request: ConsoleRequest,
    fragment: str,
    page: str,
    context: dict[str, Any],
    *,
    target: str = "",
    status: int = 200,
) -> HttpResponse:
    """The fragment to htmx (only when it swaps ``#target``, if one is named), the page otherwise;
    the page ``{% include %}``s the fragment."""
    wanted = is_fragment_request(request, target) if target else bool(request.htmx)
    return render(request, fragment if wanted else page, context, status=status)


def render_dialog(
    request: ConsoleRequest, fragment: str, context: dict[str, Any], *, title: str = ""
) -> HttpResponse:
    """A dialog fragment for htmx (into ``#modal``), or the same dialog on a page of its own."""
    if request.htmx:
        return render(request, fragment, context)
    return render(
        request, "console/users/page.html", {**context, "fragment": fragment, "title": title}
    )


def render_confirm(
    request: ConsoleRequest,
    *,
    title: str,
    message: str,
    action_url: str,
    cancel_url: str,
    button: str,
    error: str = "",
) -> HttpResponse:
    """The dialog that asks before something permanent; ``error`` says why the last try failed."""
    context = {
        "title": title,
        "message": message,
        "action_url": action_url,
        "cancel_url": cancel_url,
        "button": button,
        "error": error,
    }
    return render_dialog(request, "console/users/_confirm.html", context, title=title)


CONFIRMED = "confirmed"


def ask_first(
    request: ConsoleRequest, *, question: str, button: str, cancel_url: str
) -> HttpResponse | None:
    """None once the person has confirmed (the browser asked: ``data-confirm`` adds
    ``confirmed=yes``); otherwise the question on a page of its own, whose form posts the same
    fields again, confirmed. So a destructive form asks first with JavaScript off too."""
    if request.POST.get(CONFIRMED) == "yes":
        return None
    skipped = {"csrfmiddlewaretoken", CONFIRMED}
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in skipped
        for value in values
    ]
    context = {
        "title": button,
        "message": question,
        "action_url": request.path,
        "cancel_url": cancel_url,
        "button": button,
        "carried": [*carried, (CONFIRMED, "yes")],
    }
    return render_dialog(request, "console/users/_confirm.html", context, title=button)


def finish(request: ConsoleRequest, url: str) -> HttpResponse:
    """After a change that moves to another page: htmx follows a client redirect, plain forms a
    302."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def client_events_response(events: dict[str, Any]) -> HttpResponse:
    """204 (htmx swaps nothing) with ``HX-Trigger``: the parts of the page that listen for these
    events (``hx-trigger="policiesChanged from:body"``) refresh themselves."""
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps(events, cls=DjangoJSONEncoder)
    return response


# --- paging and search boxes --------------------------------------------------------------------


def page_number(value: str | None) -> int:
    """A ``?page=`` (or step) number from 1 to ``MAX_PAGE``; 1 for anything else."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def page_of(request: ConsoleRequest, queryset: QuerySet[Any]) -> Page:
    """The ``?page=`` page of a list, ``PAGE_SIZE`` rows a page (Django's ``Paginator``)."""
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def without_nul(text: str) -> str:
    """NUL characters cannot be stored (PostgreSQL refuses them); they are never meant."""
    return text.replace("\x00", "")


def search_query(data: QueryDict, max_length: int) -> str:
    """What a search box (``q``) asks for: without NUL, trimmed, at most ``max_length`` long."""
    return without_nul(data.get("q", "")).strip()[:max_length]
