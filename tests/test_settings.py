"""Settings come only from the environment; nothing but SECRET_KEY is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
