"""Logon security of an account: its password policy and security preference (Alibaba's
SetPasswordPolicy and SetSecurityPreference), console passwords checked against the policy, the
logon lockout of users and the throttle of client addresses, and what the preference lets a RAM
user do to itself.

Like ``iam.services``, every public function that takes an ``actor`` is one transaction that
validates, changes and appends one audit event. Authorization is the front doors', except for
the one rule the security preference adds to the authorizer (``require_on_user``).

Lockout and throttle state is the ``LogonFailure`` table, so every worker and node counts the
same failures, and nothing is kept in a process. ``limit`` failures within ``WINDOW`` refuse
every logon for one ``WINDOW`` from the failure that reached the limit: for a RAM user the
limit is its account's ``max_login_attempts`` (0: never locked), for a client address
``LOGON_ADDRESS_LIMIT`` (unknown logon names count against the address alone). A refused attempt
is no failure (its password is never checked), so a lock ends one ``WINDOW`` after it began
however often it is tried meanwhile. Two simultaneous wrong passwords may both be counted past
the limit; the lock is the same.
"""

from __future__ import annotations

import ipaddress
import secrets
import string
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import check_password as matches_hash
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from iam import errors, versions
from iam.audit import Actor, record
from iam.authz import AccessDenied, authorize, explain_decision
from iam.identity import Identity, IdentityKind
from iam.models import (
    Account,
    LogonFailure,
    PasswordHistory,
    PasswordPolicy,
    SecurityPreference,
    User,
)
from iam.policy import Decision
from iam.policy.decision import ALLOW, EXPLICIT_DENY

# More failed logons than this from one client address within WINDOW, whatever the names, and
# the address is refused for a WINDOW.
LOGON_ADDRESS_LIMIT = 20
WINDOW = timedelta(hours=1)
# How long failures are kept: long enough for operators to see a day's attempts
# (``manage.py logonfailures``); only the last two windows decide anything.
RETENTION = timedelta(days=1)
# Earlier password hashes kept per user: the most the policy's reuse prevention can ask for.
HISTORY_KEPT = 24
# A name shorter than this is part of too many passwords to be refused in them.
SHORTEST_NAME_CHECKED = 3
MAX_NETWORK_MASKS = 40
MAX_NETWORK_MASKS_LENGTH = 512

# --- ranges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    parameter: str  # Alibaba's parameter name
    low: int
    high: int


# By model (and console form) field.
RANGES = {
    "minimum_length": Range("MinimumPasswordLength", 8, 32),
    "max_password_age": Range("MaxPasswordAge", 0, 1095),
    "reuse_prevention": Range("PasswordReusePrevention", 0, 24),
    "max_login_attempts": Range("MaxLoginAttemps", 0, 32),
    "login_session_duration": Range("LoginSessionDuration", 1, 24),
}


def check_range(field: str, value: int | str) -> int:
    """``value`` as an integer within the field's range (``"12"`` from the API, 12 from a form)."""
    rule = RANGES[field]
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = rule.low - 1
    if isinstance(value, bool) or not rule.low <= number <= rule.high:
        raise errors.InvalidParameter(
            f"InvalidParameter.{rule.parameter}",
            f'The parameter - "{rule.parameter}" must be an integer from {rule.low} to '
            f"{rule.high}.",
            field=field,
            plain=_("Enter a whole number from %(low)s to %(high)s.")
            % {"low": rule.low, "high": rule.high},
        )
    return number


# --- password policy ----------------------------------------------------------------------------


def password_policy(account_id: str) -> PasswordPolicy:
    """The account's password policy: its own, or the defaults (unsaved) if it never set one."""
    found = PasswordPolicy.objects.filter(account_id=account_id).first()
    return found or PasswordPolicy(account_id=account_id)


def password_policy_values(policy: PasswordPolicy) -> dict[str, Any]:
    """The policy in Alibaba's names (GetPasswordPolicy's ``PasswordPolicy``; audit details)."""
    return {
        "MinimumPasswordLength": policy.minimum_length,
        "RequireLowercaseCharacters": policy.require_lowercase,
        "RequireUppercaseCharacters": policy.require_uppercase,
        "RequireNumbers": policy.require_numbers,
        "RequireSymbols": policy.require_symbols,
        "HardExpiry": policy.hard_expiry,
        "MaxPasswordAge": policy.max_password_age,
        "PasswordReusePrevention": policy.reuse_prevention,
        "MaxLoginAttemps": policy.max_login_attempts,
    }


@transaction.atomic
def set_password_policy(
    actor: Actor,
    account: Account,
    *,
    minimum_length: int | str | None = None,
    require_lowercase: bool | None = None,
    require_uppercase: bool | None = None,
    require_numbers: bool | None = None,
    require_symbols: bool | None = None,
    max_password_age: int | str | None = None,
    hard_expiry: bool | None = None,
    reuse_prevention: int | str | None = None,
    max_login_attempts: int | str | None = None,
) -> PasswordPolicy:
    """SetPasswordPolicy: the settings given change, those left out (None) stay as they are.
    New rules apply to passwords set from now on; a changed maximum age or number of logon
    attempts applies at once."""
    numbers = {
        "minimum_length": minimum_length,
        "max_password_age": max_password_age,
        "reuse_prevention": reuse_prevention,
        "max_login_attempts": max_login_attempts,
    }
    checked = {
        name: check_range(name, value) for name, value in numbers.items() if value is not None
    }
    flags = {
        "require_lowercase": require_lowercase,
        "require_uppercase": require_uppercase,
        "require_numbers": require_numbers,
        "require_symbols": require_symbols,
        "hard_expiry": hard_expiry,
    }
    policy = PasswordPolicy.objects.select_for_update().filter(account=account).first()
    policy = policy or PasswordPolicy(account=account)
    before = password_policy_values(policy)
    for name, value in {**checked, **flags}.items():
        if value is not None:
            setattr(policy, name, value)
    policy.save()
    versions.bump(account.pk)
    record(
        actor,
        "ram:SetPasswordPolicy",
        account.root_arn,
        account_id=account.pk,
        details={"before": before, "after": password_policy_values(policy)},
    )
    return policy


# --- security preference ------------------------------------------------------------------------


def security_preference(account_id: str) -> SecurityPreference:
    """The account's security preference: its own, or the defaults (unsaved)."""
    found = SecurityPreference.objects.filter(account_id=account_id).first()
    return found or SecurityPreference(account_id=account_id)


def security_preference_values(preference: SecurityPreference) -> dict[str, Any]:
    """The preference in Alibaba's names, flat (audit details). ``EnforceMFAForLogin`` is IMS's
    name for requiring MFA at console logon; RAM's 2015-05-01 API has none."""
    return {
        "AllowUserToChangePassword": preference.allow_user_to_change_password,
        "AllowUserToManageAccessKeys": preference.allow_user_to_manage_access_keys,
        "AllowUserToManageMFADevices": preference.allow_user_to_manage_mfa_devices,
        "EnableSaveMFATicket": preference.enable_save_mfa_ticket,
        "EnforceMFAForLogin": preference.require_mfa_for_logon,
        "LoginSessionDuration": preference.login_session_duration,
        "LoginNetworkMasks": preference.login_network_masks,
    }


def check_network_masks(value: str) -> str:
    """``192.168.0.0/16;10.0.0.0/8``: at most 40 networks, 512 characters; normalized."""
    masks = [mask.strip() for mask in value.split(";") if mask.strip()]
    try:
        networks = [ipaddress.ip_network(mask, strict=False) for mask in masks]
    except ValueError:
        networks = []
    text = ";".join(str(network) for network in networks)
    if (
        len(networks) != len(masks)
        or len(masks) > MAX_NETWORK_MASKS
        or len(value) > MAX_NETWORK_MASKS_LENGTH
    ):
        raise errors.InvalidParameter(
            "InvalidParameter.LoginNetworkMasks",
            'The parameter - "LoginNetworkMasks" is invalid.',
            field="login_network_masks",
            plain=_(
                "Enter up to %(count)s networks such as 192.168.0.0/16, separated by semicolons, "
                "%(length)s characters at most."
            )
            % {"count": MAX_NETWORK_MASKS, "length": MAX_NETWORK_MASKS_LENGTH},
        )
    return text


@transaction.atomic
def set_security_preference(
    actor: Actor,
    account: Account,
    *,
    allow_user_to_change_password: bool | None = None,
    allow_user_to_manage_access_keys: bool | None = None,
    allow_user_to_manage_mfa_devices: bool | None = None,
    enable_save_mfa_ticket: bool | None = None,
    require_mfa_for_logon: bool | None = None,
    login_session_duration: int | str | None = None,
    login_network_masks: str | None = None,
) -> SecurityPreference:
    """SetSecurityPreference: the settings given change, those left out (None) stay. What users
    may do to themselves changes what they are allowed, so the account's version moves."""
    changes: dict[str, Any] = {
        "allow_user_to_change_password": allow_user_to_change_password,
        "allow_user_to_manage_access_keys": allow_user_to_manage_access_keys,
        "allow_user_to_manage_mfa_devices": allow_user_to_manage_mfa_devices,
        "enable_save_mfa_ticket": enable_save_mfa_ticket,
        "require_mfa_for_logon": require_mfa_for_logon,
    }
    if login_session_duration is not None:
        changes["login_session_duration"] = check_range(
            "login_session_duration", login_session_duration
        )
    if login_network_masks is not None:
        changes["login_network_masks"] = check_network_masks(login_network_masks)
    preference = SecurityPreference.objects.select_for_update().filter(account=account).first()
    preference = preference or SecurityPreference(account=account)
    before = security_preference_values(preference)
    for name, value in changes.items():
        if value is not None:
            setattr(preference, name, value)
    preference.save()
    versions.bump(account.pk)
    record(
        actor,
        "ram:SetSecurityPreference",
        account.root_arn,
        account_id=account.pk,
        details={"before": before, "after": security_preference_values(preference)},
    )
    return preference


# --- what a RAM user may do to itself -----------------------------------------------------------

# Actions on a RAM user that the account's security preference grants the user over itself,
# whatever its policies say (Alibaba's AllowUserTo… settings), with the setting and its words
# (translated where a refusal is explained).
PASSWORDS = gettext_noop("change their own passwords")
ACCESS_KEYS = gettext_noop("manage their own AccessKeys")
MFA_DEVICES = gettext_noop("manage their own MFA devices")
SELF_SERVICE = {
    "ram:ChangePassword": ("allow_user_to_change_password", PASSWORDS),
    "ram:CreateAccessKey": ("allow_user_to_manage_access_keys", ACCESS_KEYS),
    "ram:ListAccessKeys": ("allow_user_to_manage_access_keys", ACCESS_KEYS),
    "ram:UpdateAccessKey": ("allow_user_to_manage_access_keys", ACCESS_KEYS),
    "ram:DeleteAccessKey": ("allow_user_to_manage_access_keys", ACCESS_KEYS),
    "ram:BindMFADevice": ("allow_user_to_manage_mfa_devices", MFA_DEVICES),
    "ram:UnbindMFADevice": ("allow_user_to_manage_mfa_devices", MFA_DEVICES),
    "ram:GetUserMFAInfo": ("allow_user_to_manage_mfa_devices", MFA_DEVICES),
}


def acting_on_self(identity: Identity, user: User) -> bool:
    """The RAM user itself, as itself (not as a role it switched to)."""
    return (
        identity.kind is IdentityKind.USER
        and identity.user is not None
        and (identity.user.pk == user.pk)
    )


def denial_on_user(
    identity: Identity, action: str, user: User, context: dict[str, Any] | None = None
) -> AccessDenied | None:
    """None when ``identity`` may do ``action`` to ``user``: its policies allow it, or it is the
    user itself and the account's security preference grants the action to users over
    themselves. An explicit Deny in a policy refuses all the same. Otherwise the refusal, in
    words that say which setting is off."""
    decision = authorize(identity, action, user.arn, context)
    if decision.allowed:
        return None
    explanation = explain_decision(identity, decision, action, user.arn)
    granted = SELF_SERVICE.get(action)
    if granted is None or decision.effect == EXPLICIT_DENY or not acting_on_self(identity, user):
        return AccessDenied(action, user.arn, decision, explanation)
    setting, words = granted
    if getattr(security_preference(user.account_id), setting):
        return None
    refusal = _(
        "This account's security settings do not let RAM users %(what)s, and your policies do "
        "not allow it either."
    ) % {"what": _(words)}
    explanation = f"{refusal} {explanation}"
    return AccessDenied(action, user.arn, decision, explanation)


def require_on_user(
    identity: Identity, action: str, user: User, context: dict[str, Any] | None = None
) -> Decision:
    """``iam.authz.require`` for an action on a RAM user, with what the security preference
    grants a user over itself (``denial_on_user``)."""
    denied = denial_on_user(identity, action, user, context)
    if denied is not None:
        raise denied
    return Decision(ALLOW)


# --- passwords ----------------------------------------------------------------------------------


def check_password_strength(password: str) -> None:
    """The floor under every policy: 8-128 characters, not letters or digits alone."""
    if len(password) < 8 or len(password) > 128 or password.isdigit() or password.isalpha():
        raise errors.InvalidParameter(
            "InvalidParameter.Password.TooWeak",
            "The password must be 8-128 characters and contain letters and digits or symbols.",
            field="password",
        )


CHARACTER_CLASSES = (
    ("require_lowercase", str.islower, gettext_noop("a lower-case letter")),
    ("require_uppercase", str.isupper, gettext_noop("an upper-case letter")),
    ("require_numbers", str.isdigit, gettext_noop("a digit")),
    ("require_symbols", lambda character: not character.isalnum(), gettext_noop("a symbol")),
)


def listing(words: list[str]) -> str:
    """``a, b and c`` in the language of the page."""
    listed = words[0]
    for word in words[1:-1]:
        listed = _("%(list)s, %(item)s") % {"list": listed, "item": word}
    if len(words) > 1:
        listed = _("%(list)s and %(item)s") % {"list": listed, "item": words[-1]}
    return listed


def check_password(account: Account, password: str, user: User | None = None) -> None:
    """Refuse a console password the account's password policy does not accept for ``user``:
    too short, missing a required kind of character, one of the user's last
    ``reuse_prevention`` passwords, or, once the account has set a policy of its own,
    containing the user's name. (Alibaba's defaults, which an account without a policy has,
    do not refuse the name; our demo's passwords contain theirs.)"""
    check_password_strength(password)
    policy = password_policy(account.pk)
    if len(password) < policy.minimum_length:
        raise policy_violation(
            "Length",
            f"at least {policy.minimum_length} characters long",
            _("Enter at least %(count)s characters.") % {"count": policy.minimum_length},
        )
    missing = [
        words
        for setting, test, words in CHARACTER_CLASSES
        if getattr(policy, setting) and not any(test(character) for character in password)
    ]
    if missing:
        listed = ", ".join(missing[:-1]) + f" and {missing[-1]}" if len(missing) > 1 else missing[0]
        plain = _("Include %(kinds)s.") % {"kinds": listing([_(words) for words in missing])}
        raise policy_violation("Policy", f"contain {listed}", plain)
    if user is None:
        return
    name = (user.email.partition("@")[0] if user.is_root else user.name).lower()
    own_policy = not policy._state.adding  # saved by the account, not the defaults
    if own_policy and len(name) >= SHORTEST_NAME_CHECKED and name in password.lower():
        raise policy_violation("Policy", "not contain the user name", _("Leave out the user name."))
    if policy.reuse_prevention and used_before(user, password, policy.reuse_prevention):
        count = policy.reuse_prevention
        raise policy_violation(
            "Reused",
            f"not be one of the last {count} passwords of the user",
            _("Choose a password that is not one of the last %(count)s ones.") % {"count": count},
        )


def policy_violation(suffix: str, rule: str, plain: str) -> errors.InvalidParameter:
    return errors.InvalidParameter(
        f"InvalidParameter.Password.{suffix}",
        f"The password must {rule}, as the password policy requires.",
        field="password",
        plain=plain,
    )


# A generated password draws from these symbols: no quote, comma, backslash or space, so it
# copies and sits in a CSV file as it is, and none a spreadsheet reads as a formula (= + - @).
GENERATED_SYMBOLS = "!#$%*?^_~"
GENERATED_LENGTH = 20


def generate_password(policy: PasswordPolicy, *, avoid: str = "") -> str:
    """A random console password ``policy`` accepts for a new user named ``avoid``: at least
    ``GENERATED_LENGTH`` characters, with a letter of each case, a digit and a symbol, and
    without the name."""
    groups = (string.ascii_lowercase, string.ascii_uppercase, string.digits, GENERATED_SYMBOLS)
    alphabet = "".join(groups)
    length = max(GENERATED_LENGTH, policy.minimum_length)
    while True:
        characters = [secrets.choice(group) for group in groups]
        characters += [secrets.choice(alphabet) for _ in range(length - len(groups))]
        secrets.SystemRandom().shuffle(characters)
        password = "".join(characters)
        if len(avoid) < SHORTEST_NAME_CHECKED or avoid.lower() not in password.lower():
            return password


def used_before(user: User, password: str, count: int) -> bool:
    """Whether ``password`` is one of the user's last ``count`` passwords (the current one
    included), compared with each stored hash as Django compares a logon's."""
    if user.pk is None:
        return False
    hashes = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True))
    hashes = hashes[:count]
    if not hashes and user.has_usable_password():
        hashes = [user.password]  # set before the history was kept
    return any(matches_hash(password, encoded) for encoded in hashes)


def save_password(user: User, password: str) -> None:
    """Make ``password`` (checked already, ``check_password``) the user's console password and
    remember it: when it was set (the maximum age counts from then) and its hash (reuse
    prevention). Saves ``user`` with whatever else the caller changed on it."""
    user.set_password(password)
    user.password_changed = timezone.now()
    user.save()
    PasswordHistory.objects.create(user=user, password=user.password)
    older = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[HISTORY_KEPT:]
    PasswordHistory.objects.filter(pk__in=list(older)).delete()


@transaction.atomic
def change_own_password(
    actor: Actor, user: User, new_password: str, *, old_password: str | None
) -> User:
    """ChangePassword: a user sets its own console password, which clears a reset the
    administrator or an expiry asked for. ``old_password`` None only where the caller has just
    verified it (the logon step that asks for a new password)."""
    if not user.has_usable_password():
        raise errors.EntityNotExist(
            "EntityNotExist.User.LoginProfile", "The login profile does not exist."
        )
    if old_password is not None and not user.check_password(old_password):
        raise errors.InvalidParameter(
            "InvalidParameter.OldPassword",
            "The old password is incorrect.",
            field="old_password",
            plain=_("This is not your current password."),
        )
    check_password(user.account, new_password, user)
    user.password_reset_required = False
    save_password(user, new_password)
    record(actor, "ram:ChangePassword", user.arn, account_id=user.account_id)
    return user


# --- at logon -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a console logon is refused: an error code for the audit trail and words for the
    person at the logon page."""

    code: str
    message: str


def clock(time: datetime) -> str:
    return f"{time:%H:%M} UTC"


def lock_end(times: list[datetime], limit: int, now: datetime) -> datetime | None:
    """When failures at ``times`` (ascending) stop refusing logons at ``now``: ``limit`` of them
    within one WINDOW refuse for one WINDOW from the last of those; None when nothing refuses."""
    until = None
    for last in range(limit - 1, len(times)) if limit > 0 else ():
        first = last - limit + 1
        if times[last] - times[first] < WINDOW and times[last] + WINDOW > now:
            until = times[last] + WINDOW
    return until


def blocked_until(scope: str, key: str, limit: int, now: datetime) -> datetime | None:
    if limit <= 0 or not key:
        return None
    times = LogonFailure.objects.filter(scope=scope, key=key, at__gt=now - 2 * WINDOW)
    return lock_end(list(times.order_by("at").values_list("at", flat=True)), limit, now)


def locked_until(user: User, now: datetime | None = None) -> datetime | None:
    """Until when the RAM user is locked out of the console, or None."""
    if user.is_root:
        return None
    limit = password_policy(user.account_id).max_login_attempts
    return blocked_until(LogonFailure.Scope.USER, user.user_id, limit, now or timezone.now())


def locked_users(account_id: str, now: datetime | None = None) -> dict[str, datetime]:
    """The account's locked RAM users: UserId -> locked until. Two queries, however many."""
    now = now or timezone.now()
    limit = password_policy(account_id).max_login_attempts
    if limit <= 0:
        return {}
    failures = LogonFailure.objects.filter(
        scope=LogonFailure.Scope.USER, account_id=account_id, at__gt=now - 2 * WINDOW
    )
    times: dict[str, list[datetime]] = defaultdict(list)
    for key, at in failures.order_by("at").values_list("key", "at"):
        times[key].append(at)
    found = {key: lock_end(user_times, limit, now) for key, user_times in times.items()}
    return {key: until for key, until in found.items() if until is not None}


def logon_refusal(user: User | None, address: str, now: datetime | None = None) -> Refusal | None:
    """Before a password is checked: whether the client address is throttled or the user named
    (None: a name nobody has) locked. Said the same whatever the password, so it tells nothing
    about it."""
    now = now or timezone.now()
    throttled = blocked_until(LogonFailure.Scope.ADDRESS, address, LOGON_ADDRESS_LIMIT, now)
    if throttled is not None:
        return Refusal(
            "Throttling.Address",
            _("Too many failed logons from your network address. Try again after %(time)s.")
            % {"time": clock(throttled)},
        )
    locked = locked_until(user, now) if user is not None else None
    if locked is not None:
        return Refusal(
            "User.Locked",
            _(
                "Too many failed logons: this logon name is locked until %(time)s. Try again "
                "then, or ask an administrator to unlock it."
            )
            % {"time": clock(locked)},
        )
    return None


def record_failure(user: User | None, address: str, now: datetime | None = None) -> None:
    """A wrong password (or a name nobody has): counted against the client address, and against
    the user when the name is a RAM user's. Failures of unknown names carry no account, so
    only operators see them."""
    now = now or timezone.now()
    account_id = user.account_id if user is not None else ""
    rows = [
        LogonFailure(
            scope=LogonFailure.Scope.ADDRESS, key=address[:64], account_id=account_id, at=now
        )
    ]
    if user is not None and not user.is_root:
        rows.append(
            LogonFailure(
                scope=LogonFailure.Scope.USER, key=user.user_id, account_id=account_id, at=now
            )
        )
    LogonFailure.objects.bulk_create(rows)
    forget_failures(now, keys=[(row.scope, row.key) for row in rows])


def forget_failures(now: datetime, *, keys: list[tuple[str, str]]) -> None:
    """Delete failures older than RETENTION: those of ``keys`` every time (an indexed delete),
    all of them now and then (the whole table)."""
    old = LogonFailure.objects.filter(at__lt=now - RETENTION)
    for scope, key in keys:
        old.filter(scope=scope, key=key).delete()
    if secrets.randbelow(100) == 0:
        old.delete()


def record_success(user: User) -> None:
    """A correct password: the user's earlier failures no longer count."""
    LogonFailure.objects.filter(scope=LogonFailure.Scope.USER, key=user.user_id).delete()


@transaction.atomic
def unlock_user(actor: Actor, user: User) -> bool:
    """Forget the user's failed logons, lifting a lock; False when it was not locked."""
    was_locked = locked_until(user) is not None
    LogonFailure.objects.filter(scope=LogonFailure.Scope.USER, key=user.user_id).delete()
    record(
        actor,
        "console:UnlockUser",
        user.arn,
        account_id=user.account_id,
        details={"WasLocked": was_locked},
    )
    return was_locked


def password_expires(user: User) -> datetime | None:
    """When the RAM user's console password expires under the policy's maximum age, or None."""
    if user.is_root or not user.has_usable_password():
        return None
    age = password_policy(user.account_id).max_password_age
    changed = user.password_changed or user.login_profile_created
    if not age or changed is None:
        return None
    return changed + timedelta(days=age)


def password_expired(user: User, now: datetime | None = None) -> bool:
    expires = password_expires(user)
    return expires is not None and expires <= (now or timezone.now())


def password_refusal(user: User, address: str, now: datetime | None = None) -> Refusal | None:
    """After the password (and any further proof): refused when it expired and the policy's
    hard expiry leaves its reset to an administrator, or when the account lets its RAM users
    log on only from its networks and ``address`` is in none of them."""
    if user.is_root:
        return None
    if password_expired(user, now) and password_policy(user.account_id).hard_expiry:
        return Refusal(
            "Password.Expired",
            _("Your password has expired. Ask an administrator to reset it."),
        )
    masks = security_preference(user.account_id).login_network_masks
    if masks and not in_networks(address, masks):
        return Refusal(
            "Logon.NetworkNotAllowed",
            _("Your account does not allow console logons from your network address."),
        )
    return None


def in_networks(address: str, masks: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    networks = [ipaddress.ip_network(mask, strict=False) for mask in masks.split(";") if mask]
    return any(client in network for network in networks)


def password_change_required(user: User, now: datetime | None = None) -> bool:
    """Whether the user must set a new password before the console opens: an administrator
    asked for it, or it expired (without hard expiry, ``password_refusal``)."""
    return not user.is_root and (user.password_reset_required or password_expired(user, now))


def session_seconds(user: User) -> int | None:
    """How long a new console logon of the user lasts: the account's login session duration
    for RAM users; None (the deployment's default) for a root identity."""
    if user.is_root:
        return None
    return security_preference(user.account_id).login_session_duration * 3600
