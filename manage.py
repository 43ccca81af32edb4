#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def ensure_demo_secret_key() -> None:
    """Only `manage.py demo` may run without SECRET_KEY: it creates one in var/ and keeps it."""
    if os.environ.get("SECRET_KEY"):
        return
    key_file = Path(__file__).resolve().parent / "var" / "secret_key"
    key_file.parent.mkdir(exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    os.environ["SECRET_KEY"] = key_file.read_text().strip()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    if sys.argv[1:2] == ["demo"]:
        ensure_demo_secret_key()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
