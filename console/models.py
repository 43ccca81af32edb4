"""Console-only state: the Switch Role history (kept server-side, unlimited) and the claimed
one-time tokens of console forms."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from iam.models import User


class RecentRole(models.Model):
    """One entry of a user's Switch Role history; the newest switch comes first."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recent_roles")
    account_id = models.CharField(max_length=16)
    account_label = models.CharField(max_length=64)
    role_name = models.CharField(max_length=64)
    display_name = models.CharField(max_length=64, blank=True)
    color = models.CharField(max_length=7, blank=True)
    last_switched = models.DateTimeField()

    class Meta:
        ordering = ["-last_switched"]
        constraints = [
            models.UniqueConstraint(
                "user", "account_id", Lower("role_name"), name="console_recent_role_unique"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or f"{self.role_name} @ {self.account_label}"

    @property
    def label(self) -> str:
        return self.display_name or f"{self.role_name} @ {self.account_label}"


class FormSubmission(models.Model):
    """A console form's one-time token, claimed by its first submission, with what that submission
    did (``console.once``): a redirect target or the identity of what it created, never a secret.
    Kept for minutes; the primary key makes the claim atomic."""

    token = models.CharField(primary_key=True, max_length=64)
    # A keyed hash of the logon session that sent it: only that session sees the outcome.
    owner = models.CharField(max_length=40)
    claimed = models.DateTimeField(db_index=True)
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-claimed"], name="console_form_owner_claimed")]

    def __str__(self) -> str:
        return f"{self.token[:8]}…"
