"""Trust policies for roles that users of an identity provider may assume, for the tests."""

from __future__ import annotations

import json


def federated_trust(provider_arn: str, condition: dict) -> str:
    statement = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Federated": [provider_arn]},
        "Condition": condition,
    }
    return json.dumps({"Version": "1", "Statement": [statement]})
