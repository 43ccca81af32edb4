"""Role sessions issued by AssumeRole and SwitchRole, and the single-use nonce register."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from iam.arns import role_session_arn
from iam.models import Role, User


class SessionStanding(NamedTuple):
    """A role session's state, since when (None while active), and why."""

    state: str
    since: datetime | None
    reason: str

    @property
    def active(self) -> bool:
        return self.state == RoleSession.State.ACTIVE


class RoleSession(models.Model):
    """One issued role session, recorded for auditors and for per-session revocation.

    Requests made with the session's credentials verify without reading this table, except the
    one indexed look-up by ``session_id`` that answers "has it been revoked, or has anything it
    depends on changed?" (see ``sts.sessions.check_session``).
    """

    class Channel(models.TextChoices):
        API = "api", _("API")
        CONSOLE = "console", _("Console")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    session_id = models.CharField(primary_key=True, max_length=32)
    # Indexes are declared in Meta only: AssumeRole inserts a row per call, and every index it
    # updates costs (the FK's own index would repeat the (role, issued) one; a CharField's
    # db_index would add a LIKE-pattern copy on PostgreSQL that no query uses).
    role = models.ForeignKey(
        Role,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        db_index=False,
    )
    account_id = models.CharField(max_length=16)
    role_name = models.CharField(max_length=64)
    role_arn = models.CharField(max_length=200)
    session_name = models.CharField(max_length=64)
    access_key_id = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.API)
    # The immediate caller: a user (RAM user), another role session (chaining) or a service.
    caller_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    caller_arn = models.CharField(max_length=300)
    parent_session = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        db_index=False,
    )
    # The real identity who started the chain; set by the server, never by the client.
    source_identity = models.CharField(max_length=300)
    source_account_id = models.CharField(max_length=16, blank=True)
    client_source_identity = models.CharField(max_length=64, blank=True)
    source_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    has_session_policy = models.BooleanField(default=False)
    # What the session depended on when issued; a change makes the next request re-check it.
    trust_revision = models.PositiveIntegerField(default=1)
    caller_revision = models.BigIntegerField(default=0)
    # The condition keys the trust and identity checks saw at issue (source IP, ExternalId, MFA
    # …), so a later re-check asks whether the same request would still be allowed.
    issued_context = models.JSONField(default=dict, blank=True)
    issued = models.DateTimeField()
    expires = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    # A console session its holder left before it expired (Switch Back, a switch to another role,
    # log off) or was returned from (revocation and the like): it can never be used again.
    ended = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued"]
        indexes = [
            models.Index(fields=["role", "-issued"], name="sts_session_role_issued"),
            models.Index(fields=["source_identity", "-issued"], name="sts_session_source"),
            models.Index(fields=["account_id", "-issued"], name="sts_session_account_issued"),
            models.Index(fields=["parent_session"], name="sts_session_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.role_name}/{self.session_name}"

    @property
    def arn(self) -> str:
        return role_session_arn(self.account_id, self.role_name, self.session_name)

    def standing(self, now: datetime, revoked_before: datetime | None) -> SessionStanding:
        """Where the session stands, as the role's Sessions list shows it; ``revoked_before`` is
        the role's "revoke active sessions" instant. Whatever stopped it first wins."""
        ends = []
        if self.ended is not None:
            ends.append((self.ended, self.State.ENDED, self.end_reason))
        if self.revoked_at is not None:
            ends.append((self.revoked_at, self.State.REVOKED, self.revoked_reason))
        if revoked_before is not None and self.issued < revoked_before:
            ends.append((revoked_before, self.State.REVOKED, "all active sessions were revoked"))
        if self.expires <= now:
            ends.append((self.expires, self.State.EXPIRED, ""))
        if not ends:
            return SessionStanding(self.State.ACTIVE, None, "")
        at, state, reason = min(ends, key=lambda end: end[0])
        return SessionStanding(state, at, reason)


NONCE_UNIQUE = "sts_nonce_unique"


class UsedNonce(models.Model):
    """A signature nonce seen within the replay window; the unique constraint makes it single-use
    across every server process."""

    access_key_id = models.CharField(max_length=40)
    nonce = models.CharField(max_length=128)
    seen = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["access_key_id", "nonce"], name=NONCE_UNIQUE)
        ]

    def __str__(self) -> str:
        return f"{self.access_key_id}:{self.nonce}"


class UsedAssertion(models.Model):
    """A SAML assertion id already exchanged for a role session: each is usable once, until the
    assertion expires (``expires``, after which the row may be pruned)."""

    provider_arn = models.CharField(max_length=300)
    assertion_id = models.CharField(max_length=256)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider_arn", "assertion_id"], name="sts_assertion_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_arn}:{self.assertion_id}"
