from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Max, Q
from django.utils import timezone

from iam import security
from iam.models import LogonFailure
from iam.rpc import iso


class Command(BaseCommand):
    help = (
        "Failed console logons per client address (for operators: they include logon names "
        "nobody has, which no tenant sees); prints one JSON object. --forget ADDRESS lifts an "
        "address's throttle."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=24,
            help="how far back to count (at most the 24 hours failures are kept)",
        )
        parser.add_argument("--forget", metavar="ADDRESS", help="delete an address's failures")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["forget"]:
            deleted, _ = LogonFailure.objects.filter(
                scope=LogonFailure.Scope.ADDRESS, key=options["forget"]
            ).delete()
            self.stdout.write(json.dumps({"Address": options["forget"], "Forgotten": deleted}))
            return
        if options["hours"] < 1:
            raise CommandError("--hours must be at least 1.")
        now = timezone.now()
        rows = (
            LogonFailure.objects.filter(
                scope=LogonFailure.Scope.ADDRESS, at__gt=now - timedelta(hours=options["hours"])
            )
            .values("key")
            .annotate(
                failures=Count("pk"),
                unknown_names=Count("pk", filter=Q(account_id="")),
                accounts=Count("account_id", filter=~Q(account_id=""), distinct=True),
                last_seen=Max("at"),
            )
            .order_by("-failures", "key")
        )
        addresses = []
        for row in rows:
            throttled = security.blocked_until(
                LogonFailure.Scope.ADDRESS, row["key"], security.LOGON_ADDRESS_LIMIT, now
            )
            addresses.append(
                {
                    "Address": row["key"],
                    "Failures": row["failures"],
                    "UnknownNames": row["unknown_names"],
                    "Accounts": row["accounts"],
                    "LastSeen": iso(row["last_seen"]),
                    "ThrottledUntil": iso(throttled),
                }
            )
        self.stdout.write(json.dumps({"Hours": options["hours"], "Addresses": addresses}))
