"""The one authorizer: every console view, RAM API action and STS call asks it, as the effective
identity, before calling a service.

Rules on top of the policy evaluator (``iam.policy``):

- A root identity may do anything to its own account's resources and nothing elsewhere.
- Identity policies never reach another account's resources; crossing accounts only happens by
  assuming a role there. The single exception is ``sts:AssumeRole`` itself, whose resource is the
  other account's role (the trust policy then has to agree too; see ``sts.assume``).
- A RAM user's policies are those attached to it and to its groups; a role session's are the
  role's attached policies intersected with the session policy given at AssumeRole.
- Registered services hold no identity policies; they act only through service roles.

Compiled policy sets are cached per process in a bounded LRU keyed by the principal and the
account's ``version`` (``iam.versions``: bumped in the database by every change a decision
depends on), so every server process sees a change on its next request, and compiled policy
documents are shared by (policy, version).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from iam import arns, tags
from iam.arns import resource_account
from iam.errors import NoPermission
from iam.identity import Identity, IdentityKind
from iam.models import Account, PolicyAttachment, PolicyVersion, Role, User
from iam.policy import CompiledPolicySet, Decision, compile_policies, explain, parse_policy
from iam.policy.cache import BoundedCache

policy_sets = BoundedCache(getattr(settings, "POLICY_CACHE_SIZE", 4096))


def policy_root_decision(allowed: bool) -> Decision:
    """A decision taken by the rules above rather than by a policy statement."""
    return Decision("Allow" if allowed else "ImplicitDeny")


def account_revision(account_id: str) -> int:
    revision = Account.objects.filter(pk=account_id).values_list("version", flat=True)
    return next(iter(revision), -1)


def default_document() -> Subquery:
    return Subquery(
        PolicyVersion.objects.filter(
            policy=OuterRef("policy"), version_id=OuterRef("policy__default_version")
        ).values("document")[:1]
    )


def attached_policies(filter_q: Q) -> list[Any]:
    """Parsed default versions of the policies selected by ``filter_q``, in one query."""
    rows = (
        PolicyAttachment.objects.filter(filter_q)
        .annotate(document=default_document())
        .values_list("policy__name", "policy__policy_type", "policy__default_version", "document")
        .distinct()
    )
    return [
        parse_policy(
            document, kind="permission", name=name, policy_type=policy_type, version=version
        )
        for name, policy_type, version, document in rows
    ]


def revision_for(identity: Identity | None, account_id: str) -> int:
    """The account's revision, read once per request: the identity object lives one request."""
    if identity is None:
        return account_revision(account_id)
    key = f"revision:{account_id}"
    if key not in identity.extra:
        identity.extra[key] = str(account_revision(account_id))
    return int(identity.extra[key])


def remember_revision(identity: Identity, account: Account) -> None:
    """Use the revision of an account row the request has already read (with the caller's key or
    role session), instead of reading it again."""
    identity.extra.setdefault(f"revision:{account.pk}", str(account.version))


def policy_set_for_user(user: User, revision: int | None = None) -> CompiledPolicySet:
    if revision is None:
        revision = account_revision(user.account_id)
    key = ("user", user.account_id, user.pk, revision)
    compiled = policy_sets.get(key)
    if compiled is None:
        policies = attached_policies(Q(user=user) | Q(group__members=user))
        compiled = compile_policies(policies)
        policy_sets.put(key, compiled)
    return compiled


def policy_set_for_role(role: Role, revision: int | None = None) -> CompiledPolicySet:
    if revision is None:
        revision = account_revision(role.account_id)
    key = ("role", role.account_id, role.pk, revision)
    compiled = policy_sets.get(key)
    if compiled is None:
        compiled = compile_policies(attached_policies(Q(role=role)))
        policy_sets.put(key, compiled)
    return compiled


def outside_account(identity: Identity, action: str, resource: str) -> bool:
    owner = resource_account(resource)
    # System policies (``acs:ram::system:policy/…``) are readable from every account.
    if owner is None or owner in (arns.ANY, arns.SYSTEM) or owner == identity.account_id:
        return False
    return action.lower() != "sts:assumerole"


def request_context(identity: Identity, context: dict[str, Any] | None) -> dict[str, Any]:
    merged = {"acs:PrincipalARN": identity.arn, "acs:MFAPresent": identity.mfa_present}
    merged.update(context or {})
    return merged


def authorize(
    identity: Identity, action: str, resource: str, context: dict[str, Any] | None = None
) -> Decision:
    """Decide ``action`` on ``resource`` for the effective identity."""
    if identity.kind is IdentityKind.ROOT:
        return policy_root_decision(
            not outside_account(identity, action, resource) and (action.lower() != "sts:assumerole")
        )
    if outside_account(identity, action, resource):
        return policy_root_decision(False)
    context = request_context(identity, context)
    if identity.kind is IdentityKind.USER:
        assert identity.user is not None
        revision = revision_for(identity, identity.user.account_id)
        compiled = policy_set_for_user(identity.user, revision)
        context = with_resource_tags(identity, compiled, None, resource, context)
        return compiled.evaluate(action, resource, context)
    if identity.kind is IdentityKind.ROLE_SESSION:
        assert identity.role is not None and identity.session is not None
        compiled = policy_set_for_role(identity.role, revision_for(identity, identity.account_id))
        session_policy = identity.session.session_policy
        context = with_resource_tags(identity, compiled, session_policy, resource, context)
        return compiled.evaluate(action, resource, context, session=session_policy)
    return policy_root_decision(False)


# Whether a compiled policy set has a condition on ``acs:ResourceTag/<key>``, by its key.
reads_tags_cache = BoundedCache(getattr(settings, "POLICY_CACHE_SIZE", 4096))


def reads_resource_tags(compiled: CompiledPolicySet, session_policy: str | None) -> bool:
    if session_policy and "resourcetag/" in session_policy.lower():
        return True
    found = reads_tags_cache.get(compiled.key)
    if found is None:
        prefix = tags.RESOURCE_TAG.lower()
        found = any(
            condition.key.startswith(prefix)
            for policy in compiled.policies
            for statement in policy.statements
            for condition in statement.conditions
        )
        reads_tags_cache.put(compiled.key, found)
    return found


def with_resource_tags(
    identity: Identity,
    compiled: CompiledPolicySet,
    session_policy: str | None,
    resource: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """The context with ``acs:ResourceTag/<key>`` for each tag of the role, user or policy
    ``resource`` names. Read only when some policy asks (one query, kept for the request);
    values the caller gave (the simulator's) win."""
    if not reads_resource_tags(compiled, session_policy):
        return context
    return {**tags.resource_context(tags.tags_for_arn(identity, resource)), **context}


class AccessDenied(NoPermission):
    """Raised by ``require``: the identity's policies do not allow ``action`` on ``resource``.
    The console answers a 403 page with the explanation; the API ``NoPermission`` with
    ``AccessDeniedDetail``."""

    def __init__(self, action: str, resource: str, decision: Decision, explanation: str) -> None:
        super().__init__(
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM. "
            + explanation,
        )
        self.action = action
        self.resource = resource
        self.decision = decision
        self.explanation = explanation

    def __str__(self) -> str:
        return self.explanation


def explain_decision(identity: Identity, decision: Decision, action: str, resource: str) -> str:
    if identity.kind is IdentityKind.ROOT and not decision.allowed:
        if action.lower() == "sts:assumerole":
            return _("Denied: root identities may not assume roles; use a RAM user.")
        return _(
            "Denied: the root identity has no access to %(resource)s outside its own account."
        ) % {"resource": resource}
    if not decision.allowed and outside_account(identity, action, resource):
        return _(
            "Denied: policies of %(principal)s never reach %(resource)s in another account; "
            "assume a role in that account instead."
        ) % {"principal": identity.principal_description, "resource": resource}
    return explain(
        decision,
        principal_description=identity.principal_description,
        action=action,
        resource=resource,
    )


def require(
    identity: Identity, action: str, resource: str, context: dict[str, Any] | None = None
) -> Decision:
    decision = authorize(identity, action, resource, context)
    if not decision.allowed:
        raise AccessDenied(
            action, resource, decision, explain_decision(identity, decision, action, resource)
        )
    return decision


def can(identity: Identity, action: str, resource: str) -> bool:
    return authorize(identity, action, resource).allowed
