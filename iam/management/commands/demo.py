from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from iam.demo import LOGINS, alice_access_key, seed_demo_world
from iam.models import Account

GUNICORN_CONFIG = settings.BASE_DIR / "console" / "gunicorn.conf.py"


class Command(BaseCommand):
    help = (
        "Migrate, seed the demo world once, print the logins and serve the console and API "
        "with gunicorn on 127.0.0.1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="migrate and seed, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        settings.VAR_DIR.mkdir(exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        created = seed_demo_world()
        self.stdout.write("Demo world " + ("created." if created else "already present."))
        address = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(f"\nRAM Console: {address}\n\nLogins (logon name / password):")
        for login in LOGINS:
            self.stdout.write(f"  {login.logon_name:<24} {login.password:<18} {login.description}")
        self.write_accounts()
        self.write_access_key()
        self.stdout.write("")
        if options["no_serve"]:
            return
        sys.stdout.flush()
        # The production server's settings (threads, timeouts, slow clients), on the demo's address.
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONFIG),
            "console.wsgi",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
        ]
        os.execv(sys.executable, command)  # noqa: S606 - replaces this process with gunicorn

    def write_accounts(self) -> None:
        self.stdout.write("\nAccounts (alias / id):")
        for account in Account.objects.filter(alias__in=["company1", "company2"]).order_by("alias"):
            self.stdout.write(f"  {account.alias:<24} {account.pk}")

    def write_access_key(self) -> None:
        key = alice_access_key()
        if key.secret is None:
            self.stdout.write(
                f"\nalice's AccessKey {key.access_key_id}: its secret was printed when it was "
                "created.\nDelete it under Users → alice to get a new one printed here."
            )
            return
        company1 = Account.objects.get(alias="company1")
        self.stdout.write(
            "\nalice's AccessKey, shown this once (the README's SDK example reads these):\n"
            f"  export ALIBABA_CLOUD_ACCESS_KEY_ID={key.access_key_id}\n"
            f"  export ALIBABA_CLOUD_ACCESS_KEY_SECRET={key.secret}\n"
            f"  export COMPANY1_ID={company1.pk}"
        )
