"""The README's SDK example runs as written against the demo world, with what `demo` prints."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from iam.system_policies import ensure_system_policies

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(settings.BASE_DIR) / "README.md"


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def printed_exports() -> dict[str, str]:
    ensure_system_policies()  # a transactional test starts without the migrations' data
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return dict(re.findall(r"export (\w+)=(\S+)", out.getvalue()))


def test_the_readme_has_one_sdk_example() -> None:
    assert len(python_snippets()) == 1


def test_the_sdk_example_assumes_ecs_admin_and_lists_company1s_roles(live_server) -> None:  # type: ignore[no-untyped-def]
    exports = printed_exports()
    endpoint = live_server.url.removeprefix("http://")
    # The example names the demo's address; the test server listens elsewhere.
    code = python_snippets()[0].replace('"127.0.0.1:8000"', f'"{endpoint}"')
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **exports},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "'ecs-admin'" in result.stdout and "'devops'" in result.stdout
