"""Console: users."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.http import ConsoleRequest, require_account_action


def user_list(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListUsers", "user")
    return render(request, "console/overview.html", {})


urlpatterns = [
    path("users/", user_list, name="user_list"),
]
