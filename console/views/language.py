"""The console's language: 中文 / English in the header.

Until someone picks one, the language follows the browser (``Accept-Language``, through Django's
LocaleMiddleware). A pick is kept in the language cookie, so the logon page speaks it too, and on
the logon user, so it follows them to another browser (``console.middleware.UserLanguage``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog

from console.http import ConsoleRequest
from iam import services

LANGUAGE_CODES = {code for code, _ in settings.LANGUAGES}


@login_not_required
@require_POST
def set_language(request: ConsoleRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next(request))
    if language not in LANGUAGE_CODES:
        return response
    if request.user.is_authenticated:
        services.set_console_language(request.user, language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def safe_next(request: ConsoleRequest) -> str:
    """Back where the switch was pressed: ``next``, else the page that sent the form (its Referer,
    same origin: the page's own address is not repeated in it, which would tell pages apart)."""
    candidate = request.POST.get("next") or request.headers.get("Referer", "")
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not allowed:
        return "/"
    parts = urlsplit(candidate)
    return f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}"


urlpatterns = [
    path("language/", set_language, name="set_language"),
    # The scripts' strings (gettext() in static/console/*.js), in the page's language.
    path(
        "jsi18n/",
        login_not_required(JavaScriptCatalog.as_view()),
        name="javascript_catalog",
    ),
]
