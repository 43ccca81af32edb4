"""Console: groups."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.http import ConsoleRequest, require_account_action


def group_list(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListGroups", "group")
    return render(request, "console/overview.html", {})


urlpatterns = [
    path("groups/", group_list, name="group_list"),
]
