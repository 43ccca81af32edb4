"""A user's AccessKeys: the secret is shown once (with copy and CSV), then never again."""

from __future__ import annotations

import re
import threading
import time
from unittest.mock import patch
from urllib.parse import unquote

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from console.models import FormSubmission
from iam import security, services
from iam.audit import SYSTEM_ACTOR
from iam.crypto import decrypt_secret
from iam.models import AccessKey, AuditEvent

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
    assert b"as many access keys as it may have" in response.content
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


# --- a repeated Create AccessKey (double click, resent form) ------------------------------------


def form_token(content: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', content)
    assert match, "the form carries no one-time token"
    return match.group(1)


def post_create(client, token: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(url("access_key_create", "bob"), {"form_token": token}, **extra)


def test_the_create_form_carries_a_token_and_disables_its_button(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    content = client.get(url("user_detail", "bob")).content.decode()
    form = content[content.index('action="/users/bob/access-keys/"') :]
    assert form_token(form)
    assert "hx-disabled-elt=\"find button[type='submit']\"" in form.split(">")[0]


def test_two_posts_with_one_token_create_one_key(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    token = form_token(client.get(url("user_detail", "bob")).content.decode())
    post_create(client, token, **HTMX)
    post_create(client, token, **HTMX)
    assert AccessKey.objects.filter(user=user_a).count() == 1
    assert AuditEvent.objects.filter(action="ram:CreateAccessKey").count() == 1


def test_the_repeat_shows_the_same_key_and_its_secret_again(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    first = post_create(client, "t" * 24).content.decode()
    repeat = post_create(client, "t" * 24).content.decode()
    key = AccessKey.objects.get(user=user_a)
    assert secret_in(repeat) == secret_in(first) == decrypt_secret(key.secret_ciphertext)
    assert 'data-testid="repeated-submission"' in repeat
    assert AuditEvent.objects.filter(action="console:RepeatedCreateAccessKey").count() == 1


def test_the_repeat_is_not_cached_either(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    post_create(client, "t" * 24)
    assert "no-store" in post_create(client, "t" * 24)["Cache-Control"]


def test_a_fresh_token_creates_another_key(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    post_create(client, "a" * 24, **HTMX)
    post_create(client, "b" * 24, **HTMX)
    assert AccessKey.objects.filter(user=user_a).count() == 2


def test_the_secret_is_kept_nowhere_but_in_the_key(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    secret = secret_in(post_create(client, "t" * 24).content.decode())
    submission = FormSubmission.objects.get()
    assert submission.outcome == {"access_key_id": AccessKey.objects.get().access_key_id}
    assert secret not in str(dict(client.session))


def test_a_repeat_after_the_key_was_deleted_creates_nothing(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    post_create(client, "t" * 24)
    AccessKey.objects.all().delete()
    response = post_create(client, "t" * 24, follow=True)
    assert b"has been deleted since" in response.content
    assert not AccessKey.objects.exists()


def test_another_logon_session_cannot_see_the_outcome(client, admin_a, user_a) -> None:
    client.force_login(admin_a)
    secret = secret_in(post_create(client, "t" * 24).content.decode())
    other = Client()
    other.force_login(admin_a)
    response = post_create(other, "t" * 24)
    assert response.status_code == 409
    assert secret not in response.content.decode()
    assert AccessKey.objects.count() == 1


def test_a_refused_repeat_is_still_refused(client, auditor_a, user_a) -> None:
    client.force_login(auditor_a)
    assert post_create(client, "t" * 24).status_code == 403
    assert post_create(client, "t" * 24).status_code == 403
    assert not FormSubmission.objects.exists()


def test_a_failed_create_is_not_remembered_as_a_key(client, admin_a, user_a) -> None:
    services.create_access_key(SYSTEM_ACTOR, user_a)
    services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(admin_a)
    post_create(client, "t" * 24)
    response = post_create(client, "t" * 24)
    assert response["Location"] == url("user_detail", "bob")
    assert AccessKey.objects.count() == 2


@pytest.fixture
def system_policies(transactional_db: None) -> None:
    """Transactional tests flush the tables, data migrations included; put them back."""
    from iam.system_policies import ensure_system_policies

    ensure_system_policies()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_with_one_token_create_one_key(
    system_policies, admin_a, user_a
) -> None:  # type: ignore[no-untyped-def]
    """Both requests are in the view at once: the first holds its claim while it creates the key
    (held there until the second has started), the second must wait for it and then answer with
    the first one's key instead of creating another.

    SQLite's in-memory test database (shared cache) answers the waiting writer "table is locked"
    at once instead of waiting as a database file does (busy timeout), so there the second may
    get the 503 "busy, nothing was changed" instead: still no second key."""
    clients = [Client(), Client()]
    clients[0].force_login(admin_a)
    clients[1].cookies = clients[0].cookies  # one logon session, as with a double click
    first_inside = threading.Event()
    create = services.create_access_key

    def slow_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        first_inside.set()
        time.sleep(0.5)
        return create(*args, **kwargs)

    responses: list[str] = []

    def send(index: int) -> None:
        try:
            responses.append(post_create(clients[index], "t" * 24).content.decode())
        finally:
            connections.close_all()

    with patch.object(services, "create_access_key", slow_create):
        first = threading.Thread(target=send, args=(0,))
        first.start()
        assert first_inside.wait(5)
        second = threading.Thread(target=send, args=(1,))
        second.start()
        first.join(10)
        second.join(10)
    assert AccessKey.objects.filter(user=user_a).count() == 1
    assert AuditEvent.objects.filter(action="ram:CreateAccessKey").count() == 1
    shown = [secret_in(content) for content in responses if "access-key-secret" in content]
    assert set(shown) == {decrypt_secret(AccessKey.objects.get().secret_ciphertext)}
    assert len(shown) == 2 or connection.vendor == "sqlite"


# --- Create AccessKey at the limit: unavailable, and says why ---------------------------------


def test_at_the_limit_create_is_unavailable_with_the_reason_beside_it(
    client, admin_a, user_a
) -> None:
    for _ in range(services.limit("access_keys_per_user")):
        services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(admin_a)
    content = client.get(url("user_detail", "bob")).content.decode()
    assert (
        '<button class="primary" type="button" aria-disabled="true" '
        'aria-describedby="key-limit">Create AccessKey</button>'
    ) in content
    assert 'id="key-limit" data-testid="key-limit">A user has at most 2 AccessKeys.' in content


def test_below_the_limit_create_is_offered(client, admin_a, user_a) -> None:
    services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(admin_a)
    content = client.get(url("user_detail", "bob")).content.decode()
    assert 'data-testid="key-limit"' not in content
    assert '<button class="primary" type="submit">Create AccessKey</button>' in content


def test_a_denial_is_shown_rather_than_the_limit(client, auditor_a, user_a) -> None:
    for _ in range(services.limit("access_keys_per_user")):
        services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(auditor_a)
    content = client.get(url("user_detail", "bob")).content.decode()
    assert 'data-testid="key-limit"' not in content
    assert "ram:CreateAccessKey" in content


def test_ones_own_keys_at_the_limit_say_why_create_is_unavailable(
    client, account_a, user_a
) -> None:
    security.set_security_preference(SYSTEM_ACTOR, account_a, allow_user_to_manage_access_keys=True)
    for _ in range(services.limit("access_keys_per_user")):
        services.create_access_key(SYSTEM_ACTOR, user_a)
    client.force_login(user_a)
    content = client.get(url("my_credentials")).content.decode()
    assert 'aria-describedby="my-key-limit">Create AccessKey</button>' in content
    assert 'id="my-key-limit" data-testid="key-limit">A user has at most 2' in content
