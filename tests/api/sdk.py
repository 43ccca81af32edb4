"""Thin builders for the official SDK clients pointed at the live server (no client patches)."""

from __future__ import annotations

import json
from typing import Any

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config


def config(
    endpoint: str, key_id: str, secret: str, token: str | None = None, signature: str = "v3"
) -> Config:
    cfg = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=endpoint,
        protocol="HTTP",
        read_timeout=20000,
        connect_timeout=5000,
    )
    if signature == "v2":
        cfg.signature_algorithm = "v2"
    return cfg


def sts(
    endpoint: str, key_id: str, secret: str, token: str | None = None, signature: str = "v3"
) -> StsClient:
    return StsClient(config(endpoint, key_id, secret, token, signature))


def ram(
    endpoint: str, key_id: str, secret: str, token: str | None = None, signature: str = "v3"
) -> RamClient:
    return RamClient(config(endpoint, key_id, secret, token, signature))


def assume(client: StsClient, role_arn: str, session: str = "alice", **extra: Any) -> Any:
    request = sts_models.AssumeRoleRequest(role_arn=role_arn, role_session_name=session, **extra)
    return client.assume_role(request).body


def legacy_call(
    endpoint: str, key_id: str, secret: str, request: Any, token: str | None = None
) -> dict[str, Any]:
    """The legacy aliyun-python-sdk-core AcsClient (V2 HMAC-SHA1, POST, params in the query)."""
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient

    if token:
        client = AcsClient(
            region_id="cn-hangzhou", credential=StsTokenCredential(key_id, secret, token)
        )
    else:
        client = AcsClient(key_id, secret, "cn-hangzhou")
    request.set_endpoint(endpoint)
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


__all__ = ["ram_models", "sts_models"]
