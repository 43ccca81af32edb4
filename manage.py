#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

KEY_FILE = Path(__file__).resolve().parent / "var" / "secret_key"


def use_local_secret_key(*, create: bool) -> None:
    """Without SECRET_KEY, management commands in this checkout use the key `manage.py demo`
    created in var/secret_key (only `demo` creates it). The server itself (gunicorn console.wsgi)
    never reads the file: production starts only with an explicit SECRET_KEY."""
    if os.environ.get("SECRET_KEY"):
        return
    if create and not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(exist_ok=True)
        KEY_FILE.write_text(secrets.token_urlsafe(50))
        KEY_FILE.chmod(0o600)
    if KEY_FILE.exists():
        os.environ["SECRET_KEY"] = KEY_FILE.read_text().strip()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    use_local_secret_key(create=sys.argv[1:2] == ["demo"])
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
