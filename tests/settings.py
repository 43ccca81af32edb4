"""The suite runs on ``console.settings`` itself; this shim only supplies what a test run needs
without any environment: a throwaway SECRET_KEY and a fast password hasher."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only")

from console.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Live-server threads must not keep connections open past a test (the test database is dropped).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
