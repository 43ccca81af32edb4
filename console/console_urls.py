"""Console URLs. Each area's view module owns its ``urlpatterns``."""

from __future__ import annotations

from django.urls import path

from console.views import (
    audit,
    credentials,
    favicon,
    groups,
    language,
    mfa,
    policies,
    providers,
    roles,
    security_settings,
    session,
    simulator,
    sso,
    switch_role,
    tags,
    trust_map,
    users,
)

app_name = "console"

urlpatterns = [
    path("", session.root, name="overview"),
    path("logon/", session.logon, name="logon"),
    path("logoff/", session.logoff, name="logoff"),
    *mfa.urlpatterns,
    path("health/", session.health, name="health"),
    *language.urlpatterns,
    path("favicon.ico", favicon.favicon, name="favicon"),
    *switch_role.urlpatterns,
    *tags.urlpatterns,
    *roles.urlpatterns,
    *providers.urlpatterns,
    *security_settings.urlpatterns,
    *credentials.urlpatterns,
    *users.urlpatterns,
    *groups.urlpatterns,
    *policies.urlpatterns,
    *audit.urlpatterns,
    *simulator.urlpatterns,
    *sso.urlpatterns,
    *trust_map.urlpatterns,
]
