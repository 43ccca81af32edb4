"""Settings come only from the environment; nothing but SECRET_KEY is needed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from console.checks import check_token_keys

ROOT = Path(__file__).resolve().parent.parent


def settings_in_fresh_process(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'console.settings'; "
        f"django.setup(); from django.conf import settings; print({expression})"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_default_database_is_an_sqlite_file() -> None:
    result = settings_in_fresh_process(
        {"SECRET_KEY": "k"}, "settings.DATABASES['default']['ENGINE'], settings.DEBUG"
    )
    assert result.stdout.strip() == "django.db.backends.sqlite3 False"


def test_postgres_urls_are_accepted() -> None:
    result = settings_in_fresh_process(
        {"SECRET_KEY": "k", "DATABASE_URL": "postgres://u@db.example:5432/ram"},
        "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['HOST']",
    )
    assert result.stdout.strip() == "django.db.backends.postgresql db.example"


def test_a_missing_secret_key_says_what_to_set() -> None:
    result = settings_in_fresh_process({}, "1")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_passwords_are_hashed_with_argon2() -> None:
    result = settings_in_fresh_process({"SECRET_KEY": "k"}, "settings.PASSWORD_HASHERS[0]")
    assert result.stdout.strip().endswith("Argon2PasswordHasher")


def test_token_keys_default_to_the_secret_key_and_can_list_several() -> None:
    single = settings_in_fresh_process({"SECRET_KEY": "k"}, "settings.TOKEN_KEYS")
    several = settings_in_fresh_process(
        {"SECRET_KEY": "k", "TOKEN_KEYS": "new,old"}, "settings.TOKEN_KEYS"
    )
    assert single.stdout.strip() == "['k']"
    assert several.stdout.strip() == "['new', 'old']"


def checkout_copy(tmp_path: Path) -> Path:
    """A checkout of its own (manage.py copied, the packages linked), so var/ is the test's."""
    (tmp_path / "manage.py").write_text((ROOT / "manage.py").read_text())
    for package in ("console", "iam", "sts", "templates", "static"):
        (tmp_path / package).symlink_to(ROOT / package)
    return tmp_path


def run_in(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env["DATABASE_URL"] = f"sqlite:///{checkout / 'db.sqlite3'}"
    return subprocess.run(
        [sys.executable, *args], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )


def test_after_demo_the_other_commands_use_its_secret_key_and_the_server_still_needs_one(
    tmp_path: Path,
) -> None:
    checkout = checkout_copy(tmp_path)
    demo = run_in(checkout, "manage.py", "demo", "--no-serve")
    account = run_in(checkout, "manage.py", "createaccount", "acme", "--email", "root@acme.example")
    migrate = run_in(checkout, "manage.py", "migrate")
    server = run_in(checkout, "-c", "import console.wsgi")
    assert (demo.returncode, account.returncode, migrate.returncode) == (0, 0, 0), account.stderr
    assert '"Alias": "acme"' in account.stdout
    assert server.returncode != 0 and "SECRET_KEY" in server.stderr


def test_without_demo_a_command_still_says_what_to_set(tmp_path: Path) -> None:
    result = run_in(checkout_copy(tmp_path), "manage.py", "migrate")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


# The production environment the README documents, with which `check --deploy` says nothing.
PRODUCTION = {
    "SECRET_KEY": "kL3v9Qx2Tz7Wm4Rb8Nc1Hy6Pd0Fg5Js-Ua_Ve3Xo9Ki2Lq7Zw4Mt8Sr1Bn6Cp0Dh",
    "TOKEN_KEYS": "Gq5Nw2Ye8Rk1Tm7Vb4Xc0Zs9Ud3Hf6Jp-La_Mo2Pi5Qr8St1Uv4Wx7Yz0Ab3Cd6Ef",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "ram.example.com",
    "SITE_URL": "https://ram.example.com",
    "DATABASE_URL": "postgres://ram@db.example:5432/ram",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_COOKIES": "true",
}


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py check --deploy` with only ``env`` (and PATH) in the environment."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_reports_nothing_in_the_documented_production_environment() -> None:
    result = check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_of_each_production_variable_left_out() -> None:
    demo_like = {key: PRODUCTION[key] for key in ("SECRET_KEY", "ALLOWED_HOSTS")}
    result = check_deploy(demo_like)
    warned = set(re.findall(r"\((\w+\.W\d+)\)", result.stderr))
    assert warned == {
        "ramconsole.W001",
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
    }


def test_the_demo_defaults_serve_plain_http() -> None:
    result = settings_in_fresh_process(
        {"SECRET_KEY": "k"},
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE",
    )
    assert result.stdout.strip() == "False 0 False"


def test_token_keys_falling_back_to_the_secret_key_is_warned_of_on_deploy_only(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TOKEN_KEYS = [settings.SECRET_KEY]
    deploy = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    plain = checks.run_checks(tags=[checks.Tags.security])
    assert "ramconsole.W001" in {message.id for message in deploy}
    assert "ramconsole.W001" not in {message.id for message in plain}


def test_token_keys_of_their_own_are_not_warned_of_even_listing_the_secret_key(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TOKEN_KEYS = ["a-token-key-of-its-own", settings.SECRET_KEY]
    assert check_token_keys(None) == []


@pytest.mark.django_db
def test_the_https_redirect_spares_the_health_check(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_SSL_REDIRECT = True
    logon = client.get("/logon/")
    health = client.get("/health/")
    assert (logon.status_code, logon["Location"]) == (301, "https://testserver/logon/")
    assert health.status_code == 200


@pytest.mark.django_db
def test_responses_carry_the_security_headers(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/logon/", secure=True)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert (response["X-Content-Type-Options"], response["Referrer-Policy"]) == (
        "nosniff",
        "same-origin",
    )
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "seen"),
    [
        (0, "203.0.113.7", "127.0.0.1"),  # no proxy configured: the header is the client's word
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left entry was the client's own
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "not-an-address", "127.0.0.1"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer hops than proxies: not from our proxies
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, seen) -> None:  # type: ignore[no-untyped-def]
    from django.http import HttpResponse
    from django.test import RequestFactory

    from console.middleware import ClientAddressMiddleware

    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    addresses = []
    middleware = ClientAddressMiddleware(
        lambda request: addresses.append(request.META["REMOTE_ADDR"]) or HttpResponse()
    )

    middleware(request)

    assert addresses == [seen]
