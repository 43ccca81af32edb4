from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.middleware import busy_response
from iam.errors import database_busy


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "console/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort. A lost lock race outside a view (saving the logon session, say) is
    still a "busy, try again", not an error of ours."""
    error = sys.exc_info()[1]
    if error is not None and database_busy(error):
        return busy_response(request)
    return render(request, "console/500.html", status=500)
