"""A real SAML 2.0 Identity Provider for the federation tests: pysaml2 behind a stdlib HTTP server.

The role-based SSO tests (the ACS endpoint, STS ``AssumeRoleWithSAML``) must consume responses that
real IdP software built and signed, not XML the test assembled by hand, so that namespace
prefixes, where the ``ds:Signature`` sits, ID references and timestamps look like what a customer's
IdP sends. ``SamlIdp`` runs a ``saml2.server.Server`` configured in code, with a self-signed
signing certificate generated at start in a temporary directory, served on 127.0.0.1 at a free
port from a daemon thread.

A person signs in on the IdP's own login page (``GET /idp/login?sp=<SP entity id>``, IdP-initiated
SSO) or arrives with an AuthnRequest (``GET /idp/sso?SAMLRequest=...``, SP-initiated, HTTP-Redirect
binding; HTTP-POST to the same URL works too). After a correct password the IdP answers the
standard HTTP-POST binding page: a form that posts ``SAMLResponse`` (and ``RelayState`` when there
is one) to the SP's Assertion Consumer Service and submits itself. ``saml_response()`` drives
exactly that over HTTP with ``urllib`` and returns the base64 ``SAMLResponse``, which is also what
a client hands to ``AssumeRoleWithSAML``.

The assertion carries the Alibaba Cloud role attributes (``ROLE_ATTRIBUTE`` with one value per
``"<role arn>,<saml-provider arn>"``, ``ROLE_SESSION_NAME_ATTRIBUTE``, and
``SESSION_DURATION_ATTRIBUTE`` when the user has one), signed with RSA-SHA256: by default the
Assertion; ``sign_response`` / ``sign_assertion`` choose the Response, the Assertion or both.
"""

from __future__ import annotations

import base64
import datetime
import html
import shutil
import tempfile
import threading
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning

from tests.certificates import self_signed

with warnings.catch_warnings():
    # pysaml2 7.5 still reaches for cipher modes cryptography has deprecated; not ours to fix.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig
    from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
    from saml2.server import Server

ROLE_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/Role"
ROLE_SESSION_NAME_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://www.aliyun.com/SAML-Role/Attributes/SessionDuration"

LOGIN_ERROR = "Incorrect username or password."


class SamlLoginError(Exception):
    """The IdP did not answer a login with an auto-posting SAMLResponse form."""


@dataclass(frozen=True)
class SamlPost:
    """What the IdP's auto-submitting page would post: to ``action``, these fields."""

    action: str
    saml_response: str
    relay_state: str | None


@dataclass
class _Form:
    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Collects every <form> of a page with its action, method and named <input> values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                _Form(attributes.get("action", ""), attributes.get("method", "get").lower())
            )
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1].fields[attributes["name"]] = attributes.get("value", "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_forms(page: str) -> _FormParser:
    """The page's forms (``.forms``: action, method, named input values) and its text (``.text``),
    for tests that drive a page by hand."""
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    return parser


def _self_signed(directory: Path, common_name: str) -> tuple[Path, Path, str]:
    """A 2048-bit RSA key and a self-signed certificate for it, written as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed(common_name, key=key)
    key_file, cert_file = directory / "idp-key.pem", directory / "idp-cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    cert_file.write_text(certificate_pem)
    return key_file, cert_file, certificate_pem


def _sp_metadata(entity_id: str, acs_url: str) -> str:
    """The little an IdP must know of a Service Provider: its entity id and its ACS (HTTP-POST)."""
    return (
        '<?xml version="1.0"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"'
        f' entityID="{html.escape(entity_id)}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"<md:NameIDFormat>{NAMEID_FORMAT_PERSISTENT}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}"'
        f' Location="{html.escape(acs_url)}" index="0" isDefault="true"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    )


class SamlIdp:
    """A pysaml2 Identity Provider on 127.0.0.1 that knows the given Service Providers and users.

    ``users`` maps a login name to ``{"password": str, "roles": [str, ...],
    "session_name": str | None, "session_duration": int | None, "attributes": {name: [values]}}``;
    everything but the password is optional. ``session_name`` defaults to the login name (``None``
    leaves RoleSessionName out), ``roles`` to none (no Role attribute), ``attributes`` adds any
    other attribute verbatim. The dict is read at each login, so tests may change it at any time,
    as they may ``sign_response`` and ``sign_assertion``.
    """

    def __init__(
        self,
        sp_entity_id: str | None = None,
        acs_url: str | None = None,
        *,
        users: dict[str, dict[str, Any]] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        lifetime: datetime.timedelta = datetime.timedelta(minutes=5),
        xmlsec_binary: str | None = None,
    ) -> None:
        self.users: dict[str, dict[str, Any]] = users if users is not None else {}
        self.sign_assertion = sign_assertion
        self.sign_response = sign_response
        self.lifetime = lifetime
        self.xmlsec_binary = xmlsec_binary or shutil.which("xmlsec1") or "xmlsec1"
        self._sps: dict[str, str] = {}
        if sp_entity_id is not None:
            if acs_url is None:
                raise ValueError("an SP entity id needs its ACS URL")
            self._sps[sp_entity_id] = acs_url
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self._server: Server | None = None
        self._config: IdPConfig | None = None
        self.base_url = ""
        self.certificate_pem = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SamlIdp:
        """Generate the signing key, bind a free port and serve from a daemon thread."""
        self._tmp = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self._key_file, self._cert_file, self.certificate_pem = _self_signed(
            self._tmp, "RAM Console test SAML IdP"
        )
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._rebuild()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="saml-idp", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SamlIdp:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what the SP configures from -----------------------------------------------------------

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/idp/metadata"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/idp/metadata"

    @property
    def sso_url(self) -> str:
        """The SingleSignOnService endpoint (HTTP-Redirect and HTTP-POST bindings)."""
        return f"{self.base_url}/idp/sso"

    @property
    def metadata_xml(self) -> bytes:
        """EntityDescriptor with the signing certificate and the SingleSignOnService endpoints."""
        with self._lock:
            assert self._config is not None, "start() the IdP first"
            return create_metadata_string(None, self._config, valid=None)

    def configure_sp(self, entity_id: str, acs_url: str) -> None:
        """Trust (another) Service Provider: its entity id and its HTTP-POST ACS URL."""
        self._sps[entity_id] = acs_url
        if self._httpd is not None:
            self._rebuild()

    def add_user(
        self,
        login: str,
        password: str,
        roles: list[str] | tuple[str, ...] = (),
        *,
        session_name: str | None = None,
        session_duration: int | None = None,
        attributes: dict[str, list[str]] | None = None,
    ) -> None:
        self.users[login] = {
            "password": password,
            "roles": list(roles),
            "session_name": session_name if session_name is not None else login,
            "session_duration": session_duration,
            "attributes": attributes or {},
        }

    def login_url(self, sp_entity_id: str | None = None, relay_state: str | None = None) -> str:
        """The IdP-initiated login page for an SP (the only one configured when not given)."""
        query = {"sp": sp_entity_id or self._only_sp()}
        if relay_state:
            query["RelayState"] = relay_state
        return f"{self.base_url}/idp/login?{urllib.parse.urlencode(query)}"

    # -- what a browser would do -----------------------------------------------------------------

    def sso_post(
        self,
        login: str,
        password: str | None = None,
        *,
        sp_entity_id: str | None = None,
        relay_state: str | None = None,
    ) -> SamlPost:
        """Sign in through the login page over HTTP; return what the auto-post form would send."""
        if password is None:
            password = self.users[login]["password"]
        with urllib.request.urlopen(self.login_url(sp_entity_id, relay_state), timeout=10) as page:
            login_page = parse_forms(page.read().decode())
        if not login_page.forms:
            raise SamlLoginError("the login page has no form")
        form = login_page.forms[0]
        fields = {**form.fields, "username": login, "password": password}
        action = urllib.parse.urljoin(self.base_url, form.action)
        body = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(action, data=body, timeout=30) as answer:
            posted = parse_forms(answer.read().decode())
        for candidate in posted.forms:
            if "SAMLResponse" in candidate.fields:
                return SamlPost(
                    action=candidate.action,
                    saml_response=candidate.fields["SAMLResponse"],
                    relay_state=candidate.fields.get("RelayState"),
                )
        page_text = " ".join("".join(posted.text).split())
        reason = LOGIN_ERROR if LOGIN_ERROR in page_text else page_text or "an empty page"
        raise SamlLoginError(f"{login} got no SAMLResponse: {reason}")

    def saml_response(
        self,
        login: str,
        password: str | None = None,
        *,
        sp_entity_id: str | None = None,
        relay_state: str | None = None,
    ) -> str:
        """The base64 SAMLResponse the IdP posts after ``login`` signs in (its own password by
        default), obtained by driving the login form over HTTP as a browser would."""
        return self.sso_post(
            login, password, sp_entity_id=sp_entity_id, relay_state=relay_state
        ).saml_response

    # -- internals ---------------------------------------------------------------------------

    def _only_sp(self) -> str:
        if len(self._sps) != 1:
            raise ValueError(f"name the SP: this IdP knows {sorted(self._sps) or 'none'}")
        return next(iter(self._sps))

    def _rebuild(self) -> None:
        """pysaml2 reads SP metadata once, at construction: build a Server for the SPs known now."""
        algorithms = {
            "signing_algorithm": xmldsig.SIG_RSA_SHA256,
            "digest_algorithm": xmldsig.DIGEST_SHA256,
        }
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": self.xmlsec_binary,
                "key_file": str(self._key_file),
                "cert_file": str(self._cert_file),
                "metadata": {"inline": [_sp_metadata(sp, acs) for sp, acs in self._sps.items()]},
                # Outside "service" these are ignored: pysaml2 reads them in the "idp" context.
                **algorithms,
                "service": {
                    "idp": {
                        "name": "RAM Console test IdP",
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.sso_url, BINDING_HTTP_REDIRECT),
                                (self.sso_url, BINDING_HTTP_POST),
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"seconds": int(self.lifetime.total_seconds())},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        **algorithms,
                    }
                },
            }
        )
        with self._lock:
            self._config = config
            self._server = Server(config=config)

    def _identity(self, user: dict[str, Any], login: str) -> dict[str, list[str]]:
        identity: dict[str, list[str]] = {}
        if user.get("roles"):
            identity[ROLE_ATTRIBUTE] = [str(role) for role in user["roles"]]
        session_name = user.get("session_name", login)
        if session_name is not None:
            identity[ROLE_SESSION_NAME_ATTRIBUTE] = [str(session_name)]
        if user.get("session_duration") is not None:
            identity[SESSION_DURATION_ATTRIBUTE] = [str(user["session_duration"])]
        for name, values in (user.get("attributes") or {}).items():
            identity[name] = [values] if isinstance(values, str) else [str(v) for v in values]
        return identity

    def _authn_request(self, saml_request: str, binding: str) -> dict[str, Any]:
        """in_response_to, destination (ACS) and sp_entity_id of an SP's AuthnRequest."""
        with self._lock:
            assert self._server is not None
            request = self._server.parse_authn_request(saml_request, binding)
            args = self._server.response_args(request.message, [BINDING_HTTP_POST])
        return {
            "in_response_to": args["in_response_to"],
            "destination": args["destination"],
            "sp_entity_id": args["sp_entity_id"],
        }

    def _response_xml(
        self,
        login: str,
        sp_entity_id: str,
        destination: str,
        in_response_to: str | None,
    ) -> str:
        user = self.users[login]
        with self._lock:
            assert self._server is not None
            response = self._server.create_authn_response(
                self._identity(user, login),
                in_response_to,
                destination,
                sp_entity_id,
                name_id=NameID(
                    format=NAMEID_FORMAT_PERSISTENT, sp_name_qualifier=sp_entity_id, text=login
                ),
                authn={"class_ref": PASSWORDPROTECTEDTRANSPORT},
                sign_assertion=self.sign_assertion,
                sign_response=self.sign_response,
                sign_alg=xmldsig.SIG_RSA_SHA256,
                digest_alg=xmldsig.DIGEST_SHA256,
            )
        return str(response)


# -- HTTP ------------------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body{body_attrs}>
{content}
</body></html>
"""


def _hidden(name: str, value: str | None) -> str:
    if not value:
        return ""
    return f'<input type="hidden" name="{name}" value="{html.escape(value)}">'


def _login_page(hidden: dict[str, str], error: str = "") -> str:
    """The sign-in form; ``hidden`` carries the SP (IdP-initiated) or the AuthnRequest and its
    binding (SP-initiated), and the RelayState, through the POST."""
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    carried = "".join(_hidden(name, value) for name, value in hidden.items())
    content = f"""<h1>Sign in to the test IdP</h1>
{alert}
<form method="post" action="/idp/login">
{carried}
<p><label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>"""
    return _PAGE.format(title="Sign in", body_attrs="", content=content)


def _auto_post_page(acs_url: str, saml_response: str, relay_state: str) -> str:
    content = f"""<form method="post" action="{html.escape(acs_url)}">
{_hidden("SAMLResponse", saml_response)}{_hidden("RelayState", relay_state)}
<noscript><p>JavaScript is off: press Continue to finish signing in.</p></noscript>
<button type="submit">Continue</button>
</form>"""
    return _PAGE.format(
        title="Signing in", body_attrs=' onload="document.forms[0].submit()"', content=content
    )


def _handler_for(idp: SamlIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "SamlTestIdP/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: str | bytes, content_type: str) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _html(self, body: str, status: int = 200) -> None:
            self._send(status, body, "text/html; charset=utf-8")

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}

        def _query(self) -> tuple[str, dict[str, str]]:
            url = urllib.parse.urlsplit(self.path)
            return url.path, {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}

        def do_GET(self) -> None:
            path, query = self._query()
            if path == "/idp/metadata":
                self._send(200, idp.metadata_xml, "application/samlmetadata+xml")
            elif path == "/idp/login":
                self._show_login(query.get("sp", ""), query.get("RelayState", ""))
            elif path == "/idp/sso":
                self._sp_initiated(query, BINDING_HTTP_REDIRECT)
            else:
                self._html("<p>Not found</p>", 404)

        def do_POST(self) -> None:
            path, _ = self._query()
            form = self._form()
            if path == "/idp/login":
                self._login(form)
            elif path == "/idp/sso":
                self._sp_initiated(form, BINDING_HTTP_POST)
            else:
                self._html("<p>Not found</p>", 404)

        def _show_login(self, sp: str, relay_state: str) -> None:
            if sp not in idp._sps:
                self._html(f"<p>Unknown service provider {html.escape(sp)}</p>", 400)
                return
            self._html(_login_page({"sp": sp, "RelayState": relay_state}))

        def _sp_initiated(self, params: dict[str, str], binding: str) -> None:
            saml_request = params.get("SAMLRequest", "")
            try:
                idp._authn_request(saml_request, binding)
            except Exception as exc:
                self._html(f"<p>Bad AuthnRequest: {html.escape(str(exc))}</p>", 400)
                return
            # The request travels on through the login form as it came, with its binding.
            hidden = {"SAMLRequest": saml_request, "binding": binding}
            self._html(_login_page({**hidden, "RelayState": params.get("RelayState", "")}))

        def _login(self, form: dict[str, str]) -> None:
            login, password = form.get("username", ""), form.get("password", "")
            hidden = {k: form.get(k, "") for k in ("sp", "SAMLRequest", "binding", "RelayState")}
            user = idp.users.get(login)
            if user is None or user.get("password") != password:
                self._html(_login_page(hidden, LOGIN_ERROR))
                return
            try:
                if hidden["SAMLRequest"]:
                    request = idp._authn_request(
                        hidden["SAMLRequest"], hidden["binding"] or BINDING_HTTP_REDIRECT
                    )
                else:
                    request = {
                        "in_response_to": None,
                        "destination": idp._sps[hidden["sp"]],
                        "sp_entity_id": hidden["sp"],
                    }
                xml = idp._response_xml(
                    login,
                    request["sp_entity_id"],
                    request["destination"],
                    request["in_response_to"],
                )
            except Exception as exc:
                self._html(f"<p>Cannot answer: {html.escape(str(exc))}</p>", 400)
                return
            encoded = base64.b64encode(xml.encode()).decode()
            self._html(_auto_post_page(request["destination"], encoded, hidden["RelayState"]))

    return Handler
