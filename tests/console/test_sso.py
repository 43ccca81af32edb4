"""Role-based SSO into the console: SAML responses from a real IdP (pysaml2) posted to our ACS,
and OIDC sign-in against a real OpenID Provider, through the Django test client."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from iam import providers, services
from iam.audit import SYSTEM_ACTOR
from iam.models import AuditEvent, Policy
from sts import saml
from sts.models import RoleSession
from tests.federation import federated_trust

PASSWORD = "idp-pass-1"


@pytest.fixture
def corp(db, settings, saml_idp_factory):  # type: ignore[no-untyped-def]
    settings.SITE_URL = "http://testserver"
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    idp = saml_idp_factory(saml.sp_entity_id(), saml.acs_url())
    provider = providers.create_saml_provider(
        SYSTEM_ACTOR, account, "corp-idp", metadata=idp.metadata_xml
    )
    condition = {"StringEquals": {"saml:recipient": saml.acs_url()}}
    roles = [
        services.create_role(
            SYSTEM_ACTOR,
            account,
            name,
            trust_policy=federated_trust(provider.arn, condition),
            max_session_duration=7200,
        )
        for name in ("sso-admin", "sso-reader")
    ]
    admin = Policy.objects.get(account__isnull=True, name="AdministratorAccess")
    services.attach_policy(SYSTEM_ACTOR, roles[0], admin)
    idp.add_user(
        "alice",
        PASSWORD,
        [f"{roles[0].arn},{provider.arn}"],
        session_name="alice@corp.example",
    )
    idp.add_user(
        "carol",
        PASSWORD,
        [f"{role.arn},{provider.arn}" for role in roles],
        session_name="carol",
        session_duration=1800,
    )
    return account, idp, provider, roles


def test_one_role_signs_the_browser_in_as_that_role(client, corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, provider, _roles = corp

    response = client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("alice")})

    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/users/")
    assert page.status_code == 200
    banner = page.content.decode()
    assert "sso-admin @ corp" in banner
    assert "federated as alice via corp-idp" in banner
    assert "Switch Back to Logon Identity" not in banner
    session = RoleSession.objects.get()
    assert session.channel == RoleSession.Channel.CONSOLE
    assert session.source_identity == f"{provider.arn}/alice"
    # No SessionDuration attribute: one hour, within the role's two.
    assert session.expires - session.issued == timedelta(hours=1)
    # The role's AdministratorAccess applies, and the trail names who really acted.
    assert client.post("/users/new/", {"user_name": "made-by-sso"}).status_code == 302
    event = AuditEvent.objects.get(action="ram:CreateUser")
    assert event.logon_identity == f"{provider.arn}/alice"
    assert event.effective_identity.endswith(":assumed-role/sso-admin/alice@corp.example")


def test_several_roles_are_offered_on_a_pick_page(client, corp) -> None:  # type: ignore[no-untyped-def]
    _, idp, _, _ = corp

    response = client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("carol")})

    assert response.status_code == 302 and response["Location"] == "/sso/roles/"
    page = client.get("/sso/roles/").content.decode()
    assert "sso-admin @ corp" in page and "sso-reader @ corp" in page
    choice = re.search(r'value="(\d)"> sso-reader', page).group(1)
    assert client.post("/sso/roles/", {"choice": choice}).status_code == 302
    session = RoleSession.objects.get()
    assert session.role_name == "sso-reader"
    assert session.expires - session.issued == timedelta(seconds=1800)


def test_a_replayed_or_forged_response_signs_nobody_in(client, corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, _provider, _roles = corp
    response = idp.saml_response("alice")
    client.post("/sso/saml/acs", {"SAMLResponse": response})
    client.post("/logoff/")

    again = client.post("/sso/saml/acs", {"SAMLResponse": response})

    assert again.status_code == 401
    assert "used already" in again.content.decode()
    assert client.get("/users/").status_code == 302
    assert client.post("/sso/saml/acs", {"SAMLResponse": "garbage"}).status_code == 401
    assert client.post("/sso/saml/acs", {}).status_code == 400


def test_revoking_the_session_signs_the_browser_out(client, corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, _provider, roles = corp
    client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("alice")})

    services.revoke_role_sessions(SYSTEM_ACTOR, roles[0])

    response = client.get("/users/")
    assert response.status_code == 302 and response["Location"].startswith("/logon/")


def test_log_off_ends_the_role_session(client, corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, _provider, _roles = corp
    client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("alice")})

    client.post("/logoff/")

    session = RoleSession.objects.get()
    assert session.ended is not None and session.end_reason == "logged off"
    assert client.get("/").status_code == 302
    assert client.get("/switch-role/").status_code == 302


def test_switch_role_is_not_offered_to_a_federated_session(client, corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, _provider, _roles = corp
    client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("alice")})

    response = client.get("/switch-role/")

    assert response.status_code == 403
    assert "no logon identity to switch from" in response.content.decode()


def test_our_sp_metadata_names_the_entity_id_and_acs(client, corp) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sso/saml/metadata")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'entityID="{saml.sp_entity_id()}"' in body
    assert f'Location="{saml.acs_url()}"' in body


# --- OIDC -----------------------------------------------------------------------------------------


@pytest.fixture
def oidc_corp(db, settings, oidc_idp_factory):  # type: ignore[no-untyped-def]
    settings.SITE_URL = "http://testserver"
    idp = oidc_idp_factory(
        clients={"ram-console": {"redirect_uris": ["http://testserver/sso/oidc/callback"]}}
    )
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account,
        "corp-oidc",
        issuer_url=idp.issuer,
        client_ids="ram-console",
        fingerprints=idp.fingerprint,
    )
    condition = {"StringEquals": {"oidc:aud": "ram-console"}}
    role = services.create_role(
        SYSTEM_ACTOR, account, "oidc-admin", trust_policy=federated_trust(provider.arn, condition)
    )
    return account, idp, provider, role


def test_oidc_sign_in_with_pkce_through_the_real_provider(client, oidc_corp) -> None:  # type: ignore[no-untyped-def]
    _account, idp, provider, _role = oidc_corp

    start = client.get("/sso/oidc/", {"account": "corp", "provider": "corp-oidc"})
    assert start.status_code == 302
    to_idp = client.get(start["Location"])
    authorize = urlsplit(to_idp["Location"])
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == ["ram-console"]
    callback = idp.authorize(to_idp["Location"], "alice")
    assert callback.startswith("http://testserver/sso/oidc/callback?")

    response = client.get(callback.removeprefix("http://testserver"))

    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/roles/").content.decode()
    assert "oidc-admin @ corp" in page and "federated as alice via corp-oidc" in page
    assert RoleSession.objects.get().source_identity == f"{provider.arn}/alice"
    # The code and state are spent: the same callback is refused.
    client.post("/logoff/")
    assert client.get(callback.removeprefix("http://testserver")).status_code == 400


def test_the_roles_sessions_list_the_federated_user(client, corp) -> None:  # type: ignore[no-untyped-def]
    account, idp, provider, roles = corp
    client.post("/sso/saml/acs", {"SAMLResponse": idp.saml_response("alice")})

    page = client.get(f"/roles/{roles[0].name}/sessions/").content.decode()

    assert "alice@corp.example" in page
    assert f"{provider.arn}/alice" in page
    assert account.pk in page


def test_an_id_token_claim_chooses_the_role(client, settings, oidc_idp_factory, db) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "http://testserver"
    account = services.create_account(SYSTEM_ACTOR, "corp", email="root@corp.example")
    roles = []
    idp = oidc_idp_factory(
        clients={"ram-console": {"redirect_uris": ["http://testserver/sso/oidc/callback"]}},
        accounts={"alice": {"ram_role": f"acs:ram::{account.pk}:role/oidc-second"}},
    )
    provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        account,
        "corp-oidc",
        issuer_url=idp.issuer,
        client_ids="ram-console",
        fingerprints=idp.fingerprint,
    )
    condition = {"StringEquals": {"oidc:aud": "ram-console"}}
    for name in ("oidc-first", "oidc-second"):
        roles.append(
            services.create_role(
                SYSTEM_ACTOR, account, name, trust_policy=federated_trust(provider.arn, condition)
            )
        )

    to_idp = client.get(f"/sso/oidc/{account.pk}/corp-oidc/")
    callback = idp.authorize(to_idp["Location"], "alice")
    response = client.get(callback.removeprefix("http://testserver"))

    assert response.status_code == 302 and response["Location"] == "/"
    assert RoleSession.objects.get().role_name == "oidc-second"
