"""A user's AccessKeys: the secret is shown once (with copy and CSV), then never again."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.urls import reverse

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.models import AccessKey

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args: str) -> str:
    return reverse(f"console:{name}", args=args)


def create_key(client) -> tuple[AccessKey, str]:  # type: ignore[no-untyped-def]
    response = client.post(url("access_key_create", "bob"), **HTMX)
    key = AccessKey.objects.get(user__name="bob")
    return key, response.content.decode()


def secret_in(content: str) -> str:
    start = content.index('data-testid="access-key-secret">') + len(
        'data-testid="access-key-secret">'
    )
    return content[start : content.index("<", start)]


def test_create_shows_the_secret_with_a_copy_button(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    key, content = create_key(client)
    secret = secret_in(content)
    assert key.access_key_id in content
    assert len(secret) == 30
    assert f'data-copy="{secret}"' in content


def test_create_response_is_not_cached(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    response = client.post(url("access_key_create", "bob"))
    assert "no-store" in response["Cache-Control"]


def test_csv_download_holds_the_key_and_secret(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    key, content = create_key(client)
    start = content.index('href="data:text/csv;charset=utf-8,') + len(
        'href="data:text/csv;charset=utf-8,'
    )
    csv = unquote(content[start : content.index('"', start)])
    assert csv.splitlines() == [
        "AccessKeyId,AccessKeySecret",
        f"{key.access_key_id},{secret_in(content)}",
    ]


def test_the_secret_is_never_shown_again(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    key, content = create_key(client)
    secret = secret_in(content)
    pages = [
        url("user_detail", "bob"),
        url("user_list"),
        url("user_policies", "bob"),
        url("access_key_delete", "bob", key.access_key_id),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200
        assert secret not in response.content.decode()
    assert key.access_key_id in client.get(url("user_detail", "bob")).content.decode()


def test_the_secret_is_stored_only_encrypted(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    key, content = create_key(client)
    assert secret_in(content) not in key.secret_ciphertext


def test_create_is_403_for_the_auditor(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    response = client.post(url("access_key_create", "bob"))
    assert response.status_code == 403
    assert b"ram:CreateAccessKey" in response.content
    assert not AccessKey.objects.exists()


def test_create_is_404_for_another_accounts_user(client, admin_a, user_b) -> None:
    client.force_login(admin_a)
    assert client.post(url("access_key_create", "alice")).status_code == 404


def test_create_beyond_the_limit_is_explained(client, admin_a, user_a) -> None:
    services.create_access_key(SYSTEM_ACTOR, user_a)
    services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(admin_a)
    response = client.post(url("access_key_create", "bob"), follow=True)
    assert b"beyond the current limits" in response.content
    assert AccessKey.objects.count() == 2


def test_create_is_post_only(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    assert client.get(url("access_key_create", "bob")).status_code == 405


def test_admin_disables_and_enables_a_key(client, admin_a, user_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    client.force_login(admin_a)
    client.post(url("access_key_status", "bob", key.access_key_id), {"status": "Inactive"})
    assert AccessKey.objects.get().status == "Inactive"
    client.post(url("access_key_status", "bob", key.access_key_id), {"status": "Active"})
    assert AccessKey.objects.get().status == "Active"


def test_bad_status_changes_nothing(client, admin_a, user_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    client.force_login(admin_a)
    response = client.post(url("access_key_status", "bob", key.access_key_id), {"status": "x"})
    assert response.status_code == 302
    assert AccessKey.objects.get().status == "Active"


def test_disable_is_403_for_the_auditor(client, auditor_a, user_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    client.force_login(auditor_a)
    response = client.post(
        url("access_key_status", "bob", key.access_key_id), {"status": "Inactive"}
    )
    assert response.status_code == 403
    assert b"ram:UpdateAccessKey" in response.content


def test_auditor_sees_key_buttons_disabled(client, auditor_a, user_a) -> None:
    services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(auditor_a)
    content = client.get(url("user_detail", "bob")).content.decode()
    assert "ram:UpdateAccessKey" in content
    assert "ram:DeleteAccessKey" in content


def test_admin_deletes_a_key(client, admin_a, user_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    client.force_login(admin_a)
    response = client.post(url("access_key_delete", "bob", key.access_key_id), **HTMX)
    assert response["HX-Redirect"] == url("user_detail", "bob")
    assert not AccessKey.objects.exists()


def test_delete_is_403_for_the_auditor(client, auditor_a, user_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, user_a).access_key
    client.force_login(auditor_a)
    response = client.post(url("access_key_delete", "bob", key.access_key_id))
    assert response.status_code == 403
    assert b"ram:DeleteAccessKey" in response.content
    assert AccessKey.objects.exists()


def test_a_key_of_another_user_is_404(client, admin_a, user_a, auditor_a) -> None:
    key = services.create_access_key(SYSTEM_ACTOR, auditor_a).access_key
    client.force_login(admin_a)
    response = client.post(url("access_key_delete", "bob", key.access_key_id))
    assert response.status_code == 404
    assert AccessKey.objects.exists()


def test_anonymous_is_sent_to_logon(client, user_a) -> None:
    response = client.post(url("access_key_create", "bob"))
    assert response.status_code == 302
    assert reverse("console:logon") in response.url
