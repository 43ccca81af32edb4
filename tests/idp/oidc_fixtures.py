"""A real OpenID Provider for the federation tests, and the pytest fixtures that start it.

Identity federation (AssumeRoleWithOIDC, console sign-in through OIDC) must be tested against
tokens that real IdP software issues, not tokens a test signs itself: only then do the tests
catch what a real IdP does differently (its claims, its key ids, its rotation). `OidcIdp` runs
panva's certified oidc-provider (tests/idp/oidc/server.mjs, on Node.js) over HTTPS on 127.0.0.1,
with a self-signed certificate and signing keys made here, and `OidcIdp.id_token` signs in
through the provider's own login and consent pages the way a client application would:
authorization-code flow with PKCE, then the code exchanged at the token endpoint.

Fixtures: `oidc_idp` (one IdP for the session, for tests that only read from it) and
`oidc_idp_factory` (a fresh IdP with the clients and accounts a test chooses, e.g. a redirect
URI on the live server, or one whose keys the test rotates). Both skip when `node` is missing.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import hashlib
import ipaddress
import json
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from joserfc.jwk import ECKey, RSAKey

from tests.certificates import self_signed

NODE_DIR = Path(__file__).resolve().parent / "oidc"
SERVER = NODE_DIR / "server.mjs"
READY_PREFIX = "OIDC IdP ready at "
START_TIMEOUT = 30.0

# Where id_token() sends the browser back by default. Nothing listens there: id_token() stops at
# that redirect and reads the code from it. (.test is reserved and never resolves.)
DEFAULT_REDIRECT_URI = "https://rp.test/sso/oidc/callback"

# client_id -> client metadata to add to or override the defaults of _client_metadata().
DEFAULT_CLIENTS: dict[str, dict[str, Any]] = {
    "ram-console": {"id_token_signed_response_alg": "RS256"},
    "ram-console-es256": {"id_token_signed_response_alg": "ES256"},
}

# login name -> claims besides sub (which is the login name).
DEFAULT_ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@idp.example", "email_verified": True, "name": "Alice Liddell"},
    "bob": {"email": "bob@idp.example", "email_verified": True, "name": "Bob Builder"},
}


class OidcIdp:
    """One oidc-provider process serving https://127.0.0.1:<port>.

    `clients` maps client_id to client metadata (redirect_uris, id_token_signed_response_alg,
    ...) over public-client defaults: no secret (token_endpoint_auth_method "none"), PKCE,
    code flow, RS256, and DEFAULT_REDIRECT_URI. `accounts` maps login name to extra claims.
    Any login name can sign in; its sub is the login name.
    """

    def __init__(
        self,
        clients: dict[str, dict[str, Any]] | None = None,
        accounts: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._clients = {
            client_id: _client_metadata(client_id, metadata)
            for client_id, metadata in (clients if clients is not None else DEFAULT_CLIENTS).items()
        }
        self.accounts: dict[str, dict[str, Any]] = dict(
            accounts if accounts is not None else DEFAULT_ACCOUNTS
        )
        self.port = 0
        self.issuer = ""
        self.fingerprint = ""
        self.ca_file = ""
        self.log: list[str] = []
        self._dir: Path | None = None
        self._jwks: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def client_ids(self) -> list[str]:
        return list(self._clients)

    def redirect_uris(self, client_id: str) -> list[str]:
        return list(self._clients[client_id]["redirect_uris"])

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> OidcIdp:
        """Make the certificate and keys, then start the server on a port the system picks."""
        if self._process is not None:
            return self
        ensure_node_modules()
        self._dir = Path(tempfile.mkdtemp(prefix="oidc-idp-"))
        cert_pem, key_pem = _self_signed_certificate()
        (self._dir / "cert.pem").write_bytes(cert_pem)
        (self._dir / "key.pem").write_bytes(key_pem)
        self.ca_file = str(self._dir / "cert.pem")
        cert = x509.load_pem_x509_certificate(cert_pem)
        self.fingerprint = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        self._jwks = _signing_keys()
        self._launch()
        return self

    def stop(self) -> None:
        """Stop the server and remove its files. Safe to call twice."""
        self._terminate()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> OidcIdp:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def rotate_keys(self) -> None:
        """Restart on the same port and issuer with new signing keys under new kids.

        A verifier that cached the old JWKS then meets an ID token whose kid it does not know.
        The TLS certificate (and so the fingerprint) stays the same.
        """
        self._jwks = _signing_keys()
        self._restart()

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Replace the accounts (login name -> extra claims) and restart on the same issuer."""
        self.accounts = dict(accounts)
        self._restart()

    def _restart(self) -> None:
        if self._process is None:
            return
        self._terminate()
        self._launch()

    def _launch(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node (Node.js) is not installed; the OIDC IdP runs on it")
        assert self._dir is not None
        config = {
            "port": self.port,
            "tls": {"cert": str(self._dir / "cert.pem"), "key": str(self._dir / "key.pem")},
            "jwks": self._jwks,
            "clients": list(self._clients.values()),
            "accounts": self.accounts,
        }
        config_file = self._dir / "config.json"
        config_file.write_text(json.dumps(config))
        self.log = []
        ready = threading.Event()
        process = subprocess.Popen(
            [node, str(SERVER), str(config_file)],
            cwd=NODE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._process = process

        def read_output() -> None:
            # Keeps reading until the process ends, so its output never fills the pipe.
            assert process.stdout is not None
            for line in process.stdout:
                self.log.append(line.rstrip("\n"))
                if line.startswith(READY_PREFIX):
                    self.issuer = line[len(READY_PREFIX) :].strip()
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read_output, name="oidc-idp-output", daemon=True)
        self._reader.start()
        if not ready.wait(START_TIMEOUT) or process.poll() is not None:
            self._terminate()
            raise RuntimeError("the OIDC IdP did not start:\n" + "\n".join(self.log))
        self.port = int(urllib.parse.urlsplit(self.issuer).port or 443)

    def _terminate(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._process = None
        self._reader = None

    # -- what a client sees --------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this IdP's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=self.ca_file)

    def get_json(self, url: str) -> Any:
        status, _, body = _Browser(self.ssl_context()).open(url)
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}: {body.decode(errors='replace')}")
        return json.loads(body)

    def discovery(self) -> dict[str, Any]:
        return self.get_json(self.issuer + "/.well-known/openid-configuration")

    def jwks(self) -> dict[str, Any]:
        """The public keys as the IdP serves them at its jwks_uri."""
        return self.get_json(self.discovery()["jwks_uri"])

    def authorize(self, url: str, login: str) -> str:
        """Follow an authorization request (``url``, as a client app built it) through the
        IdP's login and consent pages as ``login``, in a new browser session, and return where
        the IdP sends the browser back to (the client's redirect URI with code and state)."""
        browser = _Browser(self.ssl_context())
        form_data: dict[str, str] | None = None
        for _ in range(12):
            status, location, page = browser.open(url, form_data)
            if location is not None:
                if not location.startswith(self.issuer + "/"):
                    return location  # back to the client: the authorization response
                url, form_data = location, None
                continue
            if status != 200:
                raise RuntimeError(f"the IdP answered {status} at {url}:\n{_text_of(page)}")
            action, fields = _single_form(page)
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password")
            elif fields.get("prompt") != "consent":
                raise RuntimeError(f"unexpected page at {url}:\n{_text_of(page)}")
            url, form_data = urllib.parse.urljoin(url, action), fields
        raise RuntimeError("the sign-in did not come back to the client")

    def id_token(
        self,
        login: str,
        client_id: str = "ram-console",
        redirect_uri: str | None = None,
        nonce: str | None = None,
        scope: str = "openid profile email",
    ) -> str:
        """Sign `login` in through the IdP's login and consent pages and return the ID token.

        Authorization-code flow with PKCE (S256), as a public client; `redirect_uri` defaults
        to the client's first one. Each call is a new browser session, so a new sign-in.
        """
        if redirect_uri is None:
            redirect_uri = self._clients[client_id]["redirect_uris"][0]
        endpoints = self.discovery()
        verifier = secrets.token_urlsafe(48)
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        state = secrets.token_urlsafe(16)
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if nonce is not None:
            params["nonce"] = nonce
        browser = _Browser(self.ssl_context())
        url = endpoints["authorization_endpoint"] + "?" + urllib.parse.urlencode(params)
        location = self.authorize(url, login)
        if not location.startswith(redirect_uri):
            raise RuntimeError(f"the IdP redirected to {location}, not {redirect_uri}")
        response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        if "error" in response:
            raise RuntimeError(f"authorization failed: {response}")
        if response.get("state") != state or response.get("iss") != self.issuer:
            raise RuntimeError(f"authorization response does not match the request: {response}")
        status, _, body = browser.open(
            endpoints["token_endpoint"],
            {
                "grant_type": "authorization_code",
                "code": response["code"],
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        if status != 200:
            raise RuntimeError(f"token request failed ({status}): {body.decode()}")
        return json.loads(body)["id_token"]


def _client_metadata(client_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "redirect_uris": [DEFAULT_REDIRECT_URI],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "none",
        "id_token_signed_response_alg": "RS256",
        **metadata,
    }


def _signing_keys() -> dict[str, Any]:
    """A private JWKS: one RSA key for RS256 and one P-256 key for ES256, each with a new kid."""
    rsa_key = RSAKey.generate_key(
        2048, parameters={"kid": f"rsa-{secrets.token_hex(6)}", "alg": "RS256", "use": "sig"}
    )
    ec_key = ECKey.generate_key(
        "P-256", parameters={"kid": f"ec-{secrets.token_hex(6)}", "alg": "ES256", "use": "sig"}
    )
    return {"keys": [rsa_key.as_dict(private=True), ec_key.as_dict(private=True)]}


def _self_signed_certificate() -> tuple[bytes, bytes]:
    """A P-256 certificate for 127.0.0.1 that signs itself; returns (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(
        "127.0.0.1",
        days=2,
        valid_since=datetime.timedelta(minutes=5),
        key=key,
        extensions=[
            (
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False,
            ),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
        ],
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ensure_node_modules() -> None:
    """Run `npm ci` in tests/idp/oidc once, if its node_modules is missing.

    A lock file keeps parallel test workers from installing at the same time.
    """
    marker = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not installed, and {NODE_DIR}/node_modules is missing")
    lock_path = Path(tempfile.gettempdir()) / "ram-console-oidc-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        result = subprocess.run(
            [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci in {NODE_DIR} failed:\n{result.stdout}{result.stderr}")


class _Browser:
    """Just enough of a browser: cookies, TLS trusting the IdP, redirects left to the caller,
    and no proxy from the environment (the IdP is on this machine)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(CookieJar()),
            _NoRedirects(),
        )

    def open(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str | None, bytes]:
        """GET (or POST `form`); returns (status, absolute redirect target or None, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self._opener.open(url, data=data, timeout=10) as response:
                return response.status, None, response.read()
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location")
            if 300 <= error.code < 400 and location:
                return error.code, urllib.parse.urljoin(url, location), b""
            return error.code, None, error.read()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _FormParser(HTMLParser):
    """Collects each form's action and its named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}))
        elif tag == "input" and self.forms and attributes.get("name"):
            _, fields = self.forms[-1]
            fields[attributes["name"]] = attributes.get("value", "")


def _single_form(page: bytes) -> tuple[str, dict[str, str]]:
    parser = _FormParser()
    parser.feed(page.decode())
    if len(parser.forms) != 1:
        raise RuntimeError(f"expected one form on the IdP page:\n{_text_of(page)}")
    return parser.forms[0]


def _text_of(page: bytes) -> str:
    return page.decode(errors="replace")[:2000]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def oidc_idp_factory() -> Iterator[Callable[..., OidcIdp]]:
    """Start a fresh IdP: `oidc_idp_factory(clients={...}, accounts={...})`.

    Arguments are those of `OidcIdp`. Every IdP it started is stopped at the end of the session;
    a test that wants one gone sooner calls `stop()` (or uses it as a context manager).
    """
    if shutil.which("node") is None:
        pytest.skip("node (Node.js) is not installed: the OIDC IdP runs on it")
    started: list[OidcIdp] = []

    def start(
        clients: dict[str, dict[str, Any]] | None = None,
        accounts: dict[str, dict[str, Any]] | None = None,
    ) -> OidcIdp:
        idp = OidcIdp(clients=clients, accounts=accounts)
        started.append(idp)
        return idp.start()

    yield start
    for idp in started:
        idp.stop()


@pytest.fixture(scope="session")
def oidc_idp(oidc_idp_factory: Callable[..., OidcIdp]) -> OidcIdp:
    """The session's shared IdP: DEFAULT_CLIENTS and DEFAULT_ACCOUNTS. Read-only by convention:
    a test that rotates keys or changes accounts takes its own from `oidc_idp_factory`."""
    return oidc_idp_factory()


__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CLIENTS",
    "DEFAULT_REDIRECT_URI",
    "OidcIdp",
    "ensure_node_modules",
    "oidc_idp",
    "oidc_idp_factory",
]
