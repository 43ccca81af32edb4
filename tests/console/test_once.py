"""``console.once``: a create form sent more than once does its work once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console import once
from console.models import FormSubmission
from iam.models import AuditEvent, Group

pytestmark = pytest.mark.django_db


def create_group(client, name: str, token: str | None = "t" * 24):  # type: ignore[no-untyped-def]
    data = {"group_name": name}
    if token is not None:
        data["form_token"] = token
    return client.post(reverse("console:group_create"), data)


def test_a_form_without_a_token_is_handled_as_before(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa", token=None)
    again = create_group(client, "qa", token=None)
    assert again.status_code == 200  # the name is taken: the form says so
    assert not FormSubmission.objects.exists()


def test_a_malformed_token_is_no_token(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa", token="short")
    assert not FormSubmission.objects.exists()


def test_the_outcome_is_remembered_for_the_logon_session_only(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa")
    other = Client()
    other.force_login(admin_a)
    response = create_group(other, "qa")
    assert response.status_code == 409
    assert b"already sent from another logon session" in response.content


def test_the_refusal_goes_to_the_notices_under_htmx(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa")
    other = Client()
    other.force_login(admin_a)
    response = other.post(
        reverse("console:group_create"),
        {"group_name": "qa", "form_token": "t" * 24},
        HTTP_HX_REQUEST="true",
    )
    assert (response.status_code, response["HX-Retarget"]) == (409, "#notices")


def test_submissions_are_forgotten_after_their_lifetime(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa", token="a" * 24)
    with time_machine.travel(timezone.now() + once.LIFETIME + timedelta(seconds=1)):
        create_group(client, "ops", token="b" * 24)
    assert list(FormSubmission.objects.values_list("token", flat=True)) == ["b" * 24]


def test_a_session_keeps_a_bounded_number_of_submissions(client, admin_a, monkeypatch) -> None:
    monkeypatch.setattr(once, "PER_SESSION", 2)
    client.force_login(admin_a)
    for index in range(4):
        create_group(client, f"g{index}", token=f"{index}" * 24)
    assert FormSubmission.objects.count() <= 3
    assert Group.objects.count() == 4


def test_log_off_forgets_the_sessions_submissions(client, admin_a) -> None:
    client.force_login(admin_a)
    create_group(client, "qa")
    client.post(reverse("console:logoff"))
    assert not FormSubmission.objects.exists()


def test_the_role_wizard_carries_a_token(client, admin_a) -> None:
    client.force_login(admin_a)
    assert b'name="form_token"' in client.get(reverse("console:role_create")).content


def test_the_role_wizards_final_step_sent_twice_creates_one_role(client, admin_a) -> None:
    client.force_login(admin_a)
    data = {
        "role_type": "user",
        "trust_kind": "current",
        "role_name": "ops",
        "step": "4",
        "form_token": "t" * 24,
    }
    client.post(reverse("console:role_create"), data)
    repeat = client.post(reverse("console:role_create"), data)
    assert repeat.url == f"{reverse('console:role_create')}?created=ops"
    assert AuditEvent.objects.filter(action="ram:CreateRole").count() == 1


def test_the_role_wizards_final_step_sent_twice_over_htmx_creates_one_role(client, admin_a) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_a)
    data = {
        "role_type": "user",
        "trust_kind": "current",
        "role_name": "ops",
        "step": "4",
        "form_token": "h" * 24,
    }
    first = client.post(reverse("console:role_create"), data, HTTP_HX_REQUEST="true")
    repeat = client.post(reverse("console:role_create"), data, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert repeat["HX-Redirect"] == f"{reverse('console:role_create')}?created=ops"
    assert AuditEvent.objects.filter(action="ram:CreateRole").count() == 1
