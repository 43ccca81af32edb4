"""The audit trail's CSV export names its columns in the user's language: Chinese for a browser
asking for it, English (the fields' own names) otherwise."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def header_row(client: Client) -> str:
    response = client.get("/audit/export.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode().splitlines()[0]


def test_the_header_row_is_chinese_for_a_chinese_browser(auditor_a) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    client.force_login(auditor_a)
    header = header_row(client)
    assert header.startswith("事件 ID,时间,渠道,登录身份,当前身份,来源 IP,操作")
    assert "logon_identity" not in header


@pytest.mark.parametrize("language", [None, "en-US,en;q=0.9", "fr-FR"])
def test_the_header_row_is_english_otherwise(auditor_a, language: str | None) -> None:  # type: ignore[no-untyped-def]
    client = Client(**({"HTTP_ACCEPT_LANGUAGE": language} if language else {}))
    client.force_login(auditor_a)
    assert header_row(client) == (
        "id,time,channel,logon_identity,effective_identity,source_ip,action,resource_arn,"
        "result,error_code,request_id,details"
    )
