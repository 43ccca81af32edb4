from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.errors import ServiceError


class Command(BaseCommand):
    help = "Create an account (tenant) with its root identity; prints one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alias", help="enterprise alias: 3-32 lower-case letters, digits, -")
        parser.add_argument("--email", required=True, help="the root identity's logon email")
        parser.add_argument("--password", help="the root identity's console password")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--access-key", action="store_true", help="also create an access key for the root"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            account = services.create_account(
                SYSTEM_ACTOR,
                options["alias"],
                email=options["email"],
                password=options["password"],
                display_name=options["display_name"],
            )
            output: dict[str, str] = {"AccountId": account.pk, "Alias": account.alias}
            if options["access_key"]:
                new_key = services.create_root_access_key(SYSTEM_ACTOR, account)
                output["AccessKeyId"] = new_key.access_key.access_key_id
                output["AccessKeySecret"] = new_key.secret
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(json.dumps(output))
