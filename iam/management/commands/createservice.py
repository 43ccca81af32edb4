from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iam import services
from iam.audit import SYSTEM_ACTOR
from iam.errors import ServiceError


class Command(BaseCommand):
    help = "Register a service principal with an access key; prints one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="service name, e.g. oss.example.internal")
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            service, new_key = services.create_service(
                SYSTEM_ACTOR, options["name"], description=options["description"]
            )
        except ServiceError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(
            json.dumps(
                {
                    "Service": service.name,
                    "AccessKeyId": new_key.access_key.access_key_id,
                    "AccessKeySecret": new_key.secret,
                }
            )
        )
