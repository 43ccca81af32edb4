"""Switch Role in the console (filled in by the Switch Role issue)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def apply_switched_role(request: HttpRequest) -> HttpResponse | None:
    """Replace ``request.identity`` with the switched role session, if any. None: carry on."""
    return None
