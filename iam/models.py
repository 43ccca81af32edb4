"""The IAM domain: accounts, identities, groups, roles, policies, access keys, services, audit.

ARNs are derived from names and ids (``iam.arns``), never stored. Only ``iam.services`` creates
or changes these objects; the audit trail is append-only (see ``AuditEvent``).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iam import arns


def new_numeric_id(digits: int) -> str:
    """A random decimal id of exactly ``digits`` digits (no leading zero, not sequential)."""
    return str(10 ** (digits - 1) + secrets.randbelow(9 * 10 ** (digits - 1)))


def new_account_id() -> str:
    return new_numeric_id(16)


def new_principal_id() -> str:
    return new_numeric_id(17)


class Account(models.Model):
    """A tenant. Its root identity is the ``User`` of kind ROOT that belongs to it."""

    id = models.CharField(primary_key=True, max_length=16, default=new_account_id, editable=False)
    alias = models.CharField("enterprise alias", max_length=32, unique=True)
    display_name = models.CharField(max_length=128, blank=True)
    # Bumped, in the change's transaction, by every change to what a decision or an API answer
    # about the account's principals depends on (``iam.versions``): compiled policy sets, session
    # re-checks and rows kept between requests are keyed on it.
    version = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["alias"]

    def __str__(self) -> str:
        return self.alias

    @property
    def root_arn(self) -> str:
        return arns.root_arn(self.id)


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(logon_key=username)


class User(AbstractBaseUser):
    """An identity that can log on: an account's root identity or one of its RAM users."""

    class Kind(models.TextChoices):
        ROOT = "root", _("Root identity")
        RAM = "ram", _("RAM user")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RAM)
    user_id = models.CharField(
        "UserId", max_length=20, unique=True, default=new_principal_id, editable=False
    )
    name = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=128, blank=True)
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(max_length=32, blank=True)
    comments = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    password_reset_required = models.BooleanField(default=False)
    mfa_bind_required = models.BooleanField(default=False)
    login_profile_created = models.DateTimeField(null=True, blank=True)
    # When the console password was last set (the password policy's maximum age counts from it).
    password_changed = models.DateTimeField(null=True, blank=True)
    # Unique logon key: "root:<email>" or "<name>@<account id>" (lower-cased); aliases resolve to it.
    logon_key = models.CharField(max_length=200, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_login_date = models.DateTimeField(null=True, blank=True)
    # The console language the user picked ("" = the browser's); see console.views.language.
    language = models.CharField(max_length=16, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "logon_key"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "account",
                Lower("name"),
                condition=models.Q(kind="ram"),
                name="iam_user_name_unique_per_account",
            ),
            models.UniqueConstraint(
                "account", condition=models.Q(kind="root"), name="iam_one_root_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.logon_name

    @property
    def is_root(self) -> bool:
        return self.kind == self.Kind.ROOT

    @property
    def arn(self) -> str:
        if self.is_root:
            return arns.root_arn(self.account_id)
        return arns.user_arn(self.account_id, self.name)

    @property
    def logon_name(self) -> str:
        if self.is_root:
            return self.email
        return f"{self.name}@{self.account.alias}"

    @property
    def principal_name(self) -> str:
        """The user principal name shown in lists (``name@alias.onaliyun.com`` in Alibaba)."""
        return self.logon_name

    @property
    def has_console_password(self) -> bool:
        return self.has_usable_password()

    @staticmethod
    def logon_key_for(kind: str, account_id: str, name: str = "", email: str = "") -> str:
        if kind == User.Kind.ROOT:
            return f"root:{email.lower()}"
        return f"{name.lower()}@{account_id}"


class GroupMembership(models.Model):
    group = models.ForeignKey("Group", on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="group_memberships")
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="iam_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class Group(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    group_id = models.CharField(
        max_length=20, unique=True, default=new_principal_id, editable=False
    )
    name = models.CharField(max_length=64)
    comments = models.CharField(max_length=128, blank=True)
    members = models.ManyToManyField(User, through=GroupMembership, related_name="ram_groups")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "account", Lower("name"), name="iam_group_name_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arns.group_arn(self.account_id, self.name)


class Role(models.Model):
    """A RAM role: a virtual user with a trust policy, attached policies and no keys of its own."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role_id = models.CharField(
        "RoleId", max_length=20, unique=True, default=new_principal_id, editable=False
    )
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=1024, blank=True)
    trust_policy = models.TextField("trust policy document")
    max_session_duration = models.PositiveIntegerField(default=3600)
    # Tokens and console sessions issued before this instant are rejected ("Revoke active sessions").
    sessions_revoked_before = models.DateTimeField(null=True, blank=True)
    # Bumped on every trust policy change, so issued sessions re-check their trust once.
    trust_revision = models.PositiveIntegerField(default=1)
    last_used = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "account", Lower("name"), name="iam_role_name_unique_per_account"
            ),
        ]
        indexes = [models.Index("account", Lower("name"), name="iam_role_account_lname")]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arns.role_arn(self.account_id, self.name)


class Service(models.Model):
    """A registered service principal (e.g. ``oss.example.internal``) with its own access keys."""

    name = models.CharField(max_length=128, unique=True)
    description = models.CharField(max_length=1024, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arns.service_arn(self.name)


class Policy(models.Model):
    class Type(models.TextChoices):
        SYSTEM = "System", _("System policy")
        CUSTOM = "Custom", _("Custom policy")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="policies", null=True, blank=True
    )
    name = models.CharField(max_length=128)
    policy_type = models.CharField(max_length=8, choices=Type.choices, default=Type.CUSTOM)
    description = models.CharField(max_length=1024, blank=True)
    default_version = models.CharField(max_length=8, default="v1")
    next_version_number = models.PositiveIntegerField(default=2)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["policy_type", "name"]
        constraints = [
            models.UniqueConstraint(
                "account",
                Lower("name"),
                condition=models.Q(account__isnull=False),
                name="iam_custom_policy_unique_per_account",
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=models.Q(account__isnull=True),
                name="iam_system_policy_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_system(self) -> bool:
        return self.policy_type == self.Type.SYSTEM

    def arn_for(self, account_id: str) -> str:
        return arns.policy_arn(arns.SYSTEM if self.is_system else account_id, self.name)


class PolicyVersion(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    version_id = models.CharField(max_length=8)
    document = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "created"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "version_id"], name="iam_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} {self.version_id}"

    @property
    def is_default(self) -> bool:
        return self.policy.default_version == self.version_id


class PolicyAttachment(models.Model):
    """One policy attached to exactly one user, group or role."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="attachments")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    role = models.ForeignKey(
        Role, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    attached = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["attached"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, group__isnull=True, role__isnull=True)
                    | models.Q(user__isnull=True, group__isnull=False, role__isnull=True)
                    | models.Q(user__isnull=True, group__isnull=True, role__isnull=False)
                ),
                name="iam_attachment_one_principal",
            ),
            models.UniqueConstraint(
                fields=["policy", "user"],
                condition=models.Q(user__isnull=False),
                name="iam_attachment_user_unique",
            ),
            models.UniqueConstraint(
                fields=["policy", "group"],
                condition=models.Q(group__isnull=False),
                name="iam_attachment_group_unique",
            ),
            models.UniqueConstraint(
                fields=["policy", "role"],
                condition=models.Q(role__isnull=False),
                name="iam_attachment_role_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} -> {self.principal}"

    @property
    def principal(self) -> User | Group | Role:
        return self.user or self.group or self.role  # type: ignore[return-value]


class Tag(models.Model):
    """One key/value tag on exactly one role, user or policy (Alibaba's TagResources)."""

    role = models.ForeignKey(
        Role, on_delete=models.CASCADE, null=True, blank=True, related_name="tags"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="tags"
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, null=True, blank=True, related_name="tags"
    )
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=128, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role__isnull=False, user__isnull=True, policy__isnull=True)
                    | models.Q(role__isnull=True, user__isnull=False, policy__isnull=True)
                    | models.Q(role__isnull=True, user__isnull=True, policy__isnull=False)
                ),
                name="iam_tag_one_resource",
            ),
            models.UniqueConstraint(
                fields=["role", "key"],
                condition=models.Q(role__isnull=False),
                name="iam_tag_role_key_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=models.Q(user__isnull=False),
                name="iam_tag_user_key_unique",
            ),
            models.UniqueConstraint(
                fields=["policy", "key"],
                condition=models.Q(policy__isnull=False),
                name="iam_tag_policy_key_unique",
            ),
        ]
        indexes = [models.Index(fields=["key", "value"], name="iam_tag_key_value")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class AccessKey(models.Model):
    """An access key of a user (root or RAM) or of a registered service.

    The secret is stored only encrypted (``secret_ciphertext``); it is shown once on creation.
    """

    class Status(models.TextChoices):
        ACTIVE = "Active", _("Active")
        INACTIVE = "Inactive", _("Inactive")

    access_key_id = models.CharField("AccessKeyId", primary_key=True, max_length=40)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="access_keys"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="access_keys"
    )
    secret_ciphertext = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, service__isnull=True)
                    | models.Q(user__isnull=True, service__isnull=False)
                ),
                name="iam_access_key_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


# The events of one account's principals that an account's trail shows although they happened in
# another account: crossing into it. What a user does there once switched or with the role's
# credentials belongs to the role's account alone, as it would be in a cloud's own trails.
CROSSING_ACTIONS = (
    "sts:AssumeRole",
    "console:SwitchRole",
    "console:SwitchBack",
    "console:ForcedSwitchBack",
    "console:SwitchRoleExpired",
)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def trail_of(self, account_id: str) -> AuditEventQuerySet:
        """The account's trail: what happened in it, and its principals' crossings into others."""
        return self.filter(
            models.Q(account_id=account_id)
            | models.Q(source_account_id=account_id, action__in=CROSSING_ACTIONS)
        )

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        raise PermissionError("append audit events through iam.audit.append (the hash chain)")


class AuditEvent(models.Model):
    """One append-only record of a state change or an authentication/authorization decision.

    Each account's events form a hash chain (``iam.audit_chain``): ``previous_hash`` is the hash
    of the account's event before this one, ``hash`` this one's over its fields and that. Events
    are appended only through ``iam.audit.append`` (``record``, ``insert_together``), which
    serializes each account's appends on its ``AuditChainHead``.
    """

    class Channel(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("API")
        SYSTEM = "system", _("System")

    class Result(models.TextChoices):
        SUCCESS = "Success", _("Success")
        FAILURE = "Failure", _("Failure")

    # Set when the event is made, not when saved: its hash covers it.
    time = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The account whose trail the event belongs to (the resource's owner) and the logon side's.
    account_id = models.CharField(max_length=16, blank=True)
    source_account_id = models.CharField(max_length=16, blank=True)
    logon_identity = models.CharField(max_length=300, blank=True)
    effective_identity = models.CharField(max_length=300, blank=True)
    source_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=128)
    resource_arn = models.CharField(max_length=400, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.SUCCESS)
    error_code = models.CharField(max_length=128, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # SHA-256, hex: the chain's link to the account's previous event, and this event's own.
    previous_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["account_id", "-id"], name="iam_audit_account_id"),
            models.Index(fields=["source_account_id", "-id"], name="iam_audit_source_account"),
            models.Index(fields=["resource_arn", "-id"], name="iam_audit_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%dT%H:%M:%SZ} {self.action} {self.result}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        if not self.hash:
            raise PermissionError("append audit events through iam.audit.append (the hash chain)")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class AuditChainHead(models.Model):
    """The newest link of an account's audit hash chain ("" for system events): how many events
    it holds and the newest one's hash (``previous_hash``: the one before). The event's own
    INSERT statement moves it on, its row lock serializing the account's appends
    (``iam.audit_chain``)."""

    account_id = models.CharField(max_length=16, primary_key=True, blank=True)
    length = models.BigIntegerField()
    previous_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain of {self.account_id or 'the system'}: {self.length} events"


class AuditChainCheckpoint(models.Model):
    """How far an account's chain was last verified (``iam.audit_chain.verify_account``), so the
    audit trail page verifies only what was appended since; a break, once found, stays recorded
    here until a full verification (``manage.py verifyaudit``) finds the chain whole again."""

    account_id = models.CharField(max_length=16, primary_key=True, blank=True)
    length = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)
    broken_at = models.BigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)
    verified = models.DateTimeField()
    # When the whole chain was last walked from its start (by the command or a first visit).
    fully_verified = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain check of {self.account_id or 'the system'}"


class AuditRefusalWindow(models.Model):
    """How many refusals of one caller in one account (``caller_key``, a hash of both) the
    current minute (``minute``, minutes since the epoch) has seen, for the audit trail's quota
    (``iam.audit_throttle``); ``suppressed`` counts those left unrecorded until the next one is
    recorded, which ``reported`` hands over."""

    caller_key = models.CharField(max_length=64, primary_key=True)
    minute = models.BigIntegerField()
    refusals = models.IntegerField()
    suppressed = models.IntegerField(default=0)
    reported = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.refusals} refusals in minute {self.minute}"


class SAMLProvider(models.Model):
    """A SAML 2.0 identity provider an account trusts, read from the IdP's metadata document.

    What verifying an assertion needs is kept beside the document: the IdP's entity id (the
    assertion's Issuer) and its signing certificates (PEM). ``valid_until`` is the earliest
    expiry of those certificates or of the metadata's own ``validUntil``.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saml_providers")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=256, blank=True)
    metadata = models.TextField("metadata document")
    entity_id = models.CharField("entity id", max_length=1024)
    certificates = models.JSONField(default=list)
    sso_url = models.CharField("single sign-on URL", max_length=1024, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="iam_saml_provider_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arns.saml_provider_arn(self.account_id, self.name)


class OIDCProvider(models.Model):
    """An OpenID Connect issuer an account trusts: its tokens must name one of ``client_ids`` as
    audience, and the issuer's HTTPS endpoint must present a certificate whose SHA-1 fingerprint
    is one of ``fingerprints`` (as Alibaba Cloud requires)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="oidc_providers")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=256, blank=True)
    issuer_url = models.CharField("issuer URL", max_length=255)
    client_ids = models.JSONField(default=list)
    fingerprints = models.JSONField(default=list)
    # How old (hours since ``iat``) a token may be when it is exchanged.
    issuance_limit_hours = models.PositiveSmallIntegerField(default=12)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="iam_oidc_provider_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arns.oidc_provider_arn(self.account_id, self.name)


class PasswordPolicy(models.Model):
    """An account's rules for its RAM users' console passwords (Alibaba's SetPasswordPolicy).

    ``max_login_attempts`` wrong passwords within an hour lock the user for an hour (0: never);
    ``max_password_age`` is in days (0: never expires); ``reuse_prevention`` is how many earlier
    passwords may not come back (0-24). An account without a row has the defaults.
    """

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="password_policy"
    )
    minimum_length = models.PositiveSmallIntegerField(default=8)
    require_lowercase = models.BooleanField(default=False)
    require_uppercase = models.BooleanField(default=False)
    require_numbers = models.BooleanField(default=False)
    require_symbols = models.BooleanField(default=False)
    max_password_age = models.PositiveSmallIntegerField(default=0)
    hard_expiry = models.BooleanField(default=False)
    reuse_prevention = models.PositiveSmallIntegerField(default=0)
    max_login_attempts = models.PositiveSmallIntegerField(default=5)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"password policy of {self.account_id}"


class SecurityPreference(models.Model):
    """What an account lets its RAM users do for themselves, and how they log on (Alibaba's
    SetSecurityPreference). An account without a row has the defaults."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="security_preference"
    )
    allow_user_to_change_password = models.BooleanField(default=True)
    allow_user_to_manage_access_keys = models.BooleanField(default=False)
    allow_user_to_manage_mfa_devices = models.BooleanField(default=True)
    enable_save_mfa_ticket = models.BooleanField(default=False)
    # Every RAM user must pass MFA to log on to the console (binding a device at the next logon).
    require_mfa_for_logon = models.BooleanField(default=False)
    login_session_duration = models.PositiveSmallIntegerField(default=6)  # hours, 1-24
    login_network_masks = models.CharField(max_length=2000, blank=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"security preference of {self.account_id}"


class PasswordHistory(models.Model):
    """A user's earlier console password hashes, for the policy's reuse prevention."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"password of {self.user_id} at {self.created:%Y-%m-%d}"


class LogonFailure(models.Model):
    """One failed console logon, counted against a user (``scope`` "user", ``key`` its id) and
    against the client address (``scope`` "address", ``key`` the IP) for the lockout and the
    throttle. In the database, so every worker and node sees the same count."""

    class Scope(models.TextChoices):
        USER = "user", _("User")
        ADDRESS = "address", _("Client address")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    # The account of a known user (empty for an unknown logon name: operators see those alone).
    account_id = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="iam_logon_failure_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} at {self.at:%Y-%m-%dT%H:%M:%SZ}"


class VirtualMFADevice(models.Model):
    """A virtual MFA device (TOTP, RFC 6238): created, then bound to one RAM user with two
    consecutive codes. The seed is stored encrypted (as access key secrets are);
    ``last_used_step`` makes each code single-use within its window."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mfa_devices")
    name = models.CharField(max_length=64)
    secret_ciphertext = models.TextField()
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="mfa_device"
    )
    activated = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="iam_mfa_device_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def serial_number(self) -> str:
        """Alibaba's SerialNumber: ``acs:ram::<uid>:mfa/<name>``."""
        return arns.ram_arn(self.account_id, f"mfa/{self.name}")
