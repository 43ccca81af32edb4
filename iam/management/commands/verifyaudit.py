from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iam.audit_chain import chained_accounts, verify_fully


class Command(BaseCommand):
    help = (
        "Walk each account's audit hash chain from its start (or only --account's; '' is the "
        "system events' chain) and report the first event removed or altered. Prints one JSON "
        "object with each chain's length and newest hash (keep those elsewhere to detect even a "
        "rewrite of a whole chain); exits with status 1 if a chain is broken. The page's "
        "integrity checkpoints are reset to what it finds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="only this account's chain ('' for system events)")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = chained_accounts() if options["account"] is None else [options["account"]]
        chains = []
        for account_id in accounts:
            verified = verify_fully(account_id)
            chain: dict[str, Any] = {
                "AccountId": account_id,
                "Events": verified.length,
                "VerifiedThrough": verified.last_id,
                "LastHash": verified.last_hash,
                "Intact": verified.intact,
            }
            if not verified.intact:
                chain |= {"BrokenAt": verified.broken_at, "Problem": verified.problem}
            chains.append(chain)
        self.stdout.write(json.dumps({"Chains": chains}, indent=2))
        broken = [chain for chain in chains if not chain["Intact"]]
        if broken:
            raise CommandError(
                "; ".join(
                    f"account {chain['AccountId'] or '(system)'}: {chain['Problem']}"
                    for chain in broken
                )
            )
