"""Every console page, rendered in Chinese, has no English left outside names, ARNs and code.

The pages are those of the demo world, seen by its administrator, its auditor, alice switched to
ecs-admin, and anonymous visitors. A page's visible text and the attributes people read (title,
aria-label, placeholder, alt) are searched for English words once the world's own data (names,
descriptions, aliases), ARNs, action names and code (``<code>``, ``<pre>``, ``<textarea>``) are
put aside; a few technical words (ARN, JSON, AccessKey, MFA…) are English in Alibaba's Chinese
console too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from iam.auth import find_identity
from iam.demo import seed_demo_world
from iam.models import (
    Account,
    AuditEvent,
    Group,
    OIDCProvider,
    Policy,
    Role,
    SAMLProvider,
    Service,
    Tag,
    User,
)

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}

# English in Alibaba Cloud's Chinese console as well: product, protocol and format names.
TECHNICAL = {
    "RAM",
    "ARN",
    "ARNs",
    "JSON",
    "AccessKey",
    "AccessKeyId",
    "AccessKeySecret",
    "AccessKeys",
    "ID",
    "IDs",
    "MFA",
    "SAML",
    "OIDC",
    "SSO",
    "STS",
    "CSV",
    "IP",
    "URL",
    "HTTPS",
    "HTTP",
    "TOTP",
    "QR",
    "API",
    "SDK",
    "UTC",
    "ECS",
    "OSS",
    "RoleId",
    "UserId",
    "SHA",
    "PKCE",
    "JWKS",
    "XML",
    "IdP",
    "SP",
    "ACS",
    "SecurityToken",
    "Alibaba",
    "Cloud",
    "Aliyun",
    "IMS",
    "RPC",
    "VPC",
    "SessionDuration",
    "RoleSessionName",
    "NotAction",
    "NotResource",
    "Principal",
    "Sid",
    "ForAnyValue",
    "ForAllValues",
    "IfExists",
    "Null",
    "Bool",
    "StringEquals",
    "IpAddress",
    "Secret",
    "KB",
    # The policy language's own words, as the Chinese console writes them in its messages.
    "Statement",
    "Effect",
    "Action",
    "Resource",
    "Condition",
    "Allow",
    "Deny",
    "Version",
}
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "textarea", "kbd", "samp"}
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
MACHINE_TEXT = re.compile(
    r"acs:\S+|https?://\S+|[\w.+-]+@[\w.-]+|\b[a-z][a-z0-9-]*:[A-Za-z0-9*/_.-]+"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d+)?\b|\bv\d+\b|%\(\w+\)s|#[0-9a-fA-F]{3,8}\b"
)
WORD = re.compile(r"[A-Za-z][A-Za-z']+")


class VisibleText(HTMLParser):
    """The text a person reads: text nodes outside code and scripts, and read attributes; what
    is marked ``lang="en"`` (the English half of the language switch) is left out."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if not self.skipping:
            self.parts.extend(values[name] or "" for name in READ_ATTRIBUTES if values.get(name))
            if tag == "input" and values.get("type") in {"submit", "button"}:
                self.parts.append(values.get("value") or "")
        if tag in self.VOID:
            return
        if self.skipping or tag in SKIPPED_ELEMENTS or values.get("lang") == "en":
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def world_data() -> list[str]:
    """The demo world's own words (names, descriptions, aliases): data, not the console's."""
    values: list[str] = []
    values += Account.objects.values_list("alias", flat=True)
    values += Account.objects.values_list("display_name", flat=True)
    for field in ("name", "display_name", "email", "comments"):
        values += User.objects.values_list(field, flat=True)
    values += Group.objects.values_list("name", flat=True)
    values += Group.objects.values_list("comments", flat=True)
    values += Role.objects.values_list("name", flat=True)
    values += Role.objects.values_list("description", flat=True)
    values += Policy.objects.filter(account__isnull=False).values_list("description", flat=True)
    values += Policy.objects.values_list("name", flat=True)
    values += Tag.objects.values_list("key", flat=True)
    values += Tag.objects.values_list("value", flat=True)
    for model in (SAMLProvider, OIDCProvider):
        values += model.objects.values_list("name", flat=True)
    values += Service.objects.values_list("name", flat=True)
    values += Service.objects.values_list("description", flat=True)
    return sorted({value for value in values if value}, key=len, reverse=True)


def english_words(html: str, data: Iterable[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    for value in data:
        text = text.replace(value, " ")
    text = MACHINE_TEXT.sub(" ", text)
    return [word for word in WORD.findall(text) if word not in TECHNICAL]


def assert_chinese(html: str) -> None:
    words = english_words(html, world_data())
    assert not words, "English left: " + ", ".join(sorted(set(words)))


@pytest.fixture
def demo(db) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()


def client_of(persona: str) -> Client:
    """A browser asking for Chinese: anonymous, or logged on (alice switched to ecs-admin)."""
    client = Client(**CHINESE)
    if persona == "anonymous":
        return client
    logon_name = {
        "admin": "admin@company1",
        "auditor": "auditor@company1",
        "alice": "alice@company2",
    }[persona]
    user = find_identity(logon_name)
    assert user is not None
    client.force_login(user)
    if persona == "alice":
        client.post("/switch-role/", {"account": "company1", "role_name": "ecs-admin"})
    return client


def first_event() -> str:
    return str(AuditEvent.objects.order_by("id").values_list("id", flat=True).first())


# Each GET page of the console (by URL name), the persona who sees it and the path. Pages
# answering only a POST, a redirect or a file are named in NOT_PAGES with the reason.
PAGES: dict[str, list[tuple[str, str]]] = {
    "overview": [("admin", "/"), ("alice", "/")],
    "logon": [("anonymous", "/logon/")],
    "role_list": [("admin", "/roles/"), ("auditor", "/roles/")],
    "role_create": [("admin", "/roles/_new/")],
    "role_detail": [("admin", "/roles/ecs-admin/"), ("auditor", "/roles/ecs-admin/")],
    "role_permissions": [("admin", "/roles/ecs-admin/permissions/")],
    "role_trust": [("admin", "/roles/ecs-admin/trust-policy/")],
    "role_sessions": [("admin", "/roles/ecs-admin/sessions/")],
    "role_events": [("admin", "/roles/ecs-admin/events/")],
    "role_who_can_assume": [("admin", "/roles/ecs-admin/who-can-assume/")],
    "role_delete": [("admin", "/roles/devops/delete/")],
    "role_tags": [("admin", "/roles/ecs-admin/tags/")],
    "authorize": [("admin", "/authorize/role/devops/")],
    "user_list": [("admin", "/users/"), ("auditor", "/users/")],
    "user_create": [("admin", "/users/new/")],
    "user_detail": [("admin", "/users/auditor/"), ("auditor", "/users/admin/")],
    "user_delete": [("admin", "/users/auditor/delete/")],
    "user_password": [("admin", "/users/auditor/password/")],
    "user_password_delete": [("admin", "/users/auditor/password/delete/")],
    "user_group_add": [("admin", "/users/auditor/groups/add/")],
    "user_mfa_bind": [("admin", "/users/auditor/mfa/")],
    "user_tags": [("admin", "/users/auditor/tags/")],
    "group_list": [("admin", "/groups/")],
    "group_create": [("admin", "/groups/new/")],
    "policy_list": [("admin", "/policies/"), ("admin", "/policies/?type=Custom")],
    "policy_create": [("admin", "/policies/new/")],
    "policy_detail": [("admin", "/policies/System/AliyunECSFullAccess/")],
    "audit_trail": [("auditor", "/audit/")],
    "audit_event": [("auditor", "/audit/{event}/")],
    "simulator": [
        ("auditor", "/simulator/"),
        (
            "auditor",
            "/simulator/?principal=user:auditor&action=ram:CreateRole&resource=acs:ram::*:role/*",
        ),
    ],
    "trust_map": [("auditor", "/trust-map/")],
    "switch_role": [("alice", "/switch-role/"), ("admin", "/switch-role/")],
    "provider_list": [("admin", "/identity-providers/")],
    "saml_provider_create": [("admin", "/identity-providers/new/saml/")],
    "oidc_provider_create": [("admin", "/identity-providers/new/oidc/")],
    "security_settings": [("admin", "/security-settings/")],
    "my_credentials": [("admin", "/security-credentials/")],
    "my_password": [("admin", "/security-credentials/password/")],
    "my_mfa": [("admin", "/mfa/")],
    "oidc_sign_in": [("anonymous", "/sso/oidc/")],
}
NOT_PAGES = {
    "health": "a status line for load balancers",
    "favicon": "a redirect to an image",
    "javascript_catalog": "the scripts' strings",
    "saml_metadata": "XML for identity providers",
    "audit_export": "a CSV file (tests/console/test_audit_csv_language.py checks its headers)",
    "access_key_create": "answers a POST (the created key's dialog: POSTED below)",
}


def test_every_page_of_the_console_is_checked() -> None:
    """A new page gets a row in PAGES (or, if it is no page, a reason in NOT_PAGES)."""
    names: set[str] = set()

    def walk(patterns: Iterable[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    getting = {name for name in names if name in PAGES or name in NOT_PAGES}
    assert getting <= names
    assert set(PAGES) | set(NOT_PAGES) <= names


@pytest.mark.parametrize(
    ("persona", "path"), [row for rows in PAGES.values() for row in rows], ids=str
)
def test_a_page_in_chinese_has_no_english_words(demo, persona: str, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client_of(persona).get(path.format(event=first_event()))
    assert response.status_code == 200, response.status_code
    assert_chinese(response.content.decode())


def test_a_403_page_in_chinese_has_no_english_words(demo) -> None:  # type: ignore[no-untyped-def]
    response = client_of("auditor").post("/roles/devops/delete/")
    assert response.status_code == 403
    assert_chinese(response.content.decode())


def test_a_404_page_in_chinese_has_no_english_words(demo) -> None:  # type: ignore[no-untyped-def]
    response = client_of("admin").get("/roles/no-such-role/")
    assert response.status_code == 404
    assert_chinese(response.content.decode())


# Pages only a POST draws: what a form answers (its errors, what it created).
POSTED = [
    ("admin", "/users/auditor/access-keys/", {}),
    ("admin", "/users/new/", {"user_name": "用户 甲"}),  # a space: not a valid name
    ("admin", "/roles/_new/", {"step": "2", "role_type": "user"}),
    ("admin", "/roles/_new/", {"step": "3", "role_type": "user", "trust_kind": "current"}),
    ("admin", "/groups/new/", {"group_name": ""}),
    ("admin", "/policies/new/", {"policy_name": "", "document": "{"}),
]


@pytest.mark.parametrize(("persona", "path", "data"), POSTED, ids=str)
def test_a_form_answer_in_chinese_has_no_english_words(demo, persona: str, path: str, data) -> None:  # type: ignore[no-untyped-def]
    response = client_of(persona).post(path, data)
    assert response.status_code == 200, response.status_code
    assert_chinese(response.content.decode())
