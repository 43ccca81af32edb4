"""The RPC API entry point (filled in below by the API module)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def is_api_request(request: HttpRequest) -> bool:
    """A request to ``/`` is an API call when it carries ``Action`` or ``x-acs-action``."""
    return bool(
        "Action" in request.GET
        or "HTTP_X_ACS_ACTION" in request.META
        or (request.method == "POST" and "Action" in request.POST)
    )


def api_entry(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
