"""Console: policies."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.http import ConsoleRequest, require_account_action


def policy_list(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListPolicies", "policy")
    return render(request, "console/overview.html", {})


urlpatterns = [
    path("policies/", policy_list, name="policy_list"),
]
