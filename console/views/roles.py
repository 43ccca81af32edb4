"""Console: roles."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.http import ConsoleRequest, require_account_action


def role_list(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListRoles", "role")
    return render(request, "console/overview.html", {})


urlpatterns = [
    path("roles/", role_list, name="role_list"),
]
