from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("console.console_urls")),
]

handler404 = "console.views.errors.not_found"
handler500 = "console.views.errors.server_error"
