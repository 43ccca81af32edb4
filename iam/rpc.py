"""The RPC framework both APIs stand on: the call an action handler gets, the action registry,
dispatch, and the answers in Alibaba's shape (JSON, or XML with ``Format=XML``).

RAM's actions (``iam.api``, 2015-05-01) and STS's (``sts.actions``, 2015-04-01) register here when
their apps are ready (``AppConfig.ready``); the front door (``sts.front_door``) authenticates a
request and hands the call to ``dispatch``. Nothing here knows how a request was signed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from iam import errors
from iam.audit import Actor
from iam.authz import AccessDenied
from iam.identity import Identity, IdentityKind


@dataclass
class Call:
    """What an action handler gets: who, with which parameters, from where, and the versions of
    the accounts the request depends on as read with its nonce (``versions``: account id ->
    version), under which rows read on earlier requests may be reused."""

    identity: Identity | None  # None only for anonymous actions (AssumeRoleWithSAML/OIDC)
    params: dict[str, str]
    actor: Actor
    context: dict[str, Any]
    action: str
    versions: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.params.get(name)
        if value in (None, "") and required:
            raise errors.InvalidParameter(f"Missing{name}", f"{name} is mandatory for this action.")
        return value if value is not None else default

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value in (None, ""):
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise errors.InvalidParameter(
            f"InvalidParameter.{name}", f'The parameter - "{name}" must be a boolean.'
        )

    def strings(self, name: str) -> list[str]:
        """A list parameter as the SDKs send it: a JSON array in ``name`` (the ``json`` style
        of the newer SDKs) or ``name.1``, ``name.2``... (the flat style)."""
        raw = self.params.get(name)
        if raw not in (None, ""):
            values = json_list(raw)
            if not all(isinstance(value, str) for value in values):
                raise invalid_list(name)
            return values
        return [value for _, value in numbered(self.params, name) if value != ""]

    def pairs(self, name: str) -> list[tuple[str, str]]:
        """A list of ``{Key, Value}`` (``Tag``): a JSON array of objects in ``name``, or
        ``name.N.Key`` / ``name.N.Value``."""
        raw = self.params.get(name)
        if raw not in (None, ""):
            found = []
            for item in json_list(raw):
                if not isinstance(item, dict) or not isinstance(item.get("Key", ""), str):
                    raise invalid_list(name)
                value = item.get("Value")
                found.append((item.get("Key", ""), "" if value is None else str(value)))
            return found
        keys = dict(numbered(self.params, name, ".Key"))
        values = dict(numbered(self.params, name, ".Value"))
        return [(keys.get(index, ""), values.get(index, "")) for index in sorted(keys | values)]


def invalid_list(name: str) -> errors.InvalidParameter:
    return errors.InvalidParameter(
        f"InvalidParameter.{name}", f'The parameter - "{name}" is invalid.'
    )


def json_list(raw: str) -> list[Any]:
    """A JSON array, or one plain value (``ResourceNames=ops``, a name that reads as a number)
    as a list of itself."""
    try:
        values = json.loads(raw)
    except ValueError:
        return [raw]
    return values if isinstance(values, list) else [raw]


def numbered(params: dict[str, str], name: str, suffix: str = "") -> list[tuple[int, str]]:
    """``name.N<suffix>`` parameters as (N, value), by N."""
    pattern = re.compile(rf"{re.escape(name)}\.([0-9]{{1,4}}){re.escape(suffix)}")
    found = []
    for key, value in params.items():
        match = pattern.fullmatch(key)
        if match:
            found.append((int(match[1]), value))
    return sorted(found)


Handler = Callable[[Call], dict[str, Any]]
# What else than its caller's account a request's answer depends on, from its parameters: the
# front door reads those accounts' versions with the nonce (AssumeRole: the RoleArn's account).
Dependencies = Callable[[dict[str, str]], Sequence[str]]


@dataclass(frozen=True)
class Action:
    handler: Handler
    depends_on: Dependencies | None = None
    # Called without an access key (the caller proves itself otherwise, as AssumeRoleWithSAML's
    # assertion does); a signed call to it is verified and answered all the same.
    anonymous: bool = False


ACTIONS: dict[tuple[str, str], Action] = {}


def action(
    version: str, name: str, *, depends_on: Dependencies | None = None, anonymous: bool = False
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for (Version, Action)."""

    def register(handler: Handler) -> Handler:
        ACTIONS[(version, name)] = Action(handler, depends_on, anonymous)
        return handler

    return register


def registered(version: str, name: str) -> Action:
    found = ACTIONS.get((version, name))
    if found is None:
        raise errors.ServiceError(
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
            http_status=404,
        )
    return found


def dispatch(call: Call, version: str) -> dict[str, Any]:
    return registered(version, call.action).handler(call)


# --- recognising a call -------------------------------------------------------------------------


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs in order, parsed once per request (``request.GET``
    would build a QueryDict only to be thrown away)."""
    pairs = getattr(request, "_api_query", None)
    if pairs is None:
        pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        request._api_query = pairs  # type: ignore[attr-defined]
    return pairs


def is_api_request(request: HttpRequest) -> bool:
    """A request to ``/`` is an API call when it carries ``Action`` or ``x-acs-action``."""
    if "HTTP_X_ACS_ACTION" in request.META or any(
        name == "Action" for name, _ in query_pairs(request)
    ):
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method != "POST" or not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    try:
        return "Action" in request.POST
    except (BadRequest, SuspiciousOperation):
        # A form Django will not read (too large, too many fields, not UTF-8) posted to ``/``:
        # only API clients post forms there, so the answer takes the API's shape.
        return True


# --- answers ------------------------------------------------------------------------------------


def render_body(
    body: dict[str, Any], response_format: str, action_name: str, status: int
) -> HttpResponse:
    """The body as UTF-8, whatever it holds: a lone surrogate (which no UTF-8 encodes) goes out
    as its escape, ``\\ud800``, which in JSON text is the JSON escape of the same string."""
    if response_format == "xml":
        root = f"{action_name}Response" if status < 400 else "Error"
        text = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{to_xml(body)}</{root}>'
        content_type = "text/xml;charset=utf-8"
    else:
        text = json.dumps(body, ensure_ascii=False)
        content_type = "application/json;charset=utf-8"
    content = text.encode("utf-8", "backslashreplace")
    return HttpResponse(content, status=status, content_type=content_type)


# Characters XML 1.0 cannot carry, not even as character references (C0 controls but tab, line
# feed and carriage return; lone surrogates; U+FFFE and U+FFFF).
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text for an XML element: escaped, and what XML cannot carry written as ``\\u0001``."""
    return escape(NOT_XML.sub(lambda found: f"\\u{ord(found[0]):04x}", text))


def to_xml(value: Any) -> str:
    parts = []
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        for element in items:
            if isinstance(element, dict):
                parts.append(f"<{key}>{to_xml(element)}</{key}>")
            else:
                text = str(element).lower() if isinstance(element, bool) else str(element)
                parts.append(f"<{key}>{xml_text(text)}</{key}>")
    return "".join(parts)


def render_error(
    error: errors.ServiceError, response_format: str, request_id: str, host: str
) -> HttpResponse:
    body: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": host,
        "Code": error.code,
        "Message": error.message,
    }
    if error.detail:
        body["AccessDeniedDetail"] = error.detail
    return render_body(body, response_format, "", error.http_status)


PRINCIPAL_TYPES = {
    IdentityKind.USER: "SubUser",
    IdentityKind.ROLE_SESSION: "AssumedRoleUser",
    IdentityKind.ROOT: "Account",
    IdentityKind.SERVICE: "Service",
}


def access_denied_detail(identity: Identity | None, denied: AccessDenied) -> dict[str, Any]:
    return {
        "AuthAction": denied.action,
        "AuthResource": denied.resource,
        "AuthPrincipalType": PRINCIPAL_TYPES.get(identity.kind, "") if identity else "",
        "AuthPrincipalOwnerId": identity.account_id if identity else "",
        "AuthPrincipalDisplayName": identity.arn if identity else "",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "NoPermissionType": denied.decision.effect,
        "Explanation": denied.explanation,
    }


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
