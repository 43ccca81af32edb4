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
