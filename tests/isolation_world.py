"""Three tenants with every kind of object, for the tenant-isolation property (test_isolation.py).

Every object of tenant ``x`` is named ``tx-…``, so a name of one tenant can be searched for in
another tenant's responses without matching anything else. Each tenant has users (an admin, a
read-only auditor, a user without rights, a user who may assume roles, one with console access
only), a group with members and a custom policy, a SAML and an OIDC identity provider, four roles
(one trusting its own account, one trusting the next tenant's account and a user of the third that
does not exist, one trusting a service, one trusting its SAML provider's users), access keys, role
sessions (its own user's and the previous tenant's assumer's on the cross-account role), audit
events of all of these, and a Switch Role history.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey
from lxml import etree
from signxml import XMLSigner

from iam import mfa, providers, services
from iam.audit import SYSTEM_ACTOR
from iam.identity import identity_for_user
from iam.models import (
    Account,
    Group,
    OIDCProvider,
    Policy,
    Role,
    SAMLProvider,
    User,
    VirtualMFADevice,
)
from iam.system_policies import ensure_system_policies
from sts import saml
from sts.assume import AssumeRoleInput, assume_role
from sts.models import RoleSession
from tests.console.test_providers import idp_metadata

TENANTS = ("a", "b", "c")
SERVICE = "isolation-svc.example.internal"


@dataclass
class Tenant:
    code: str
    account: Account
    users: dict[str, User] = field(default_factory=dict)
    group: Group | None = None
    policy: Policy | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    access_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # user -> (id, secret)
    saml_provider: SAMLProvider | None = None
    oidc_provider: OIDCProvider | None = None
    mfa_device: VirtualMFADevice | None = None

    def name(self, suffix: str) -> str:
        return f"t{self.code}-{suffix}"

    @property
    def issuer(self) -> str:
        """Its identity provider's host: the SAML entity id and the OIDC issuer live there."""
        return f"https://idp-{self.code}.example"

    @property
    def fingerprint(self) -> str:
        return hashlib.sha1(self.code.encode(), usedforsecurity=False).hexdigest()


@dataclass
class World:
    tenants: dict[str, Tenant]

    def tenant(self, code: str) -> Tenant:
        return self.tenants[code]

    def identifiers(self, code: str) -> set[str]:
        """Everything that names one of the tenant's users, groups, policies, roles, identity
        providers or sessions: names, RoleIds, access key ids, the providers' issuer, client id
        and fingerprint, session ids and session names."""
        tenant = self.tenants[code]
        found = {user.name for user in tenant.users.values()}
        found |= {tenant.group.name, tenant.policy.name}  # type: ignore[union-attr]
        found |= {tenant.saml_provider.name, tenant.oidc_provider.name}  # type: ignore[union-attr]
        found |= {tenant.issuer, tenant.name("client"), tenant.fingerprint}
        found.add(tenant.mfa_device.name)  # type: ignore[union-attr]
        for role in tenant.roles.values():
            found |= {role.name, role.role_id}
        found |= {key_id for key_id, _ in tenant.access_keys.values()}
        for session in RoleSession.objects.filter(account_id=tenant.account.pk):
            found |= {session.session_id, session.session_name, session.access_key_id}
        return {value for value in found if value}

    def known_to(self, code: str) -> set[str]:
        """Identifiers of other tenants that tenant ``code`` may see: what it wrote into its own
        documents, the callers of sessions of its roles (its own record of who used them), and
        the roles and sessions its own users obtained from other tenants."""
        tenant = self.tenants[code]
        known: set[str] = set()
        written = " ".join(
            [role.trust_policy for role in Role.objects.filter(account=tenant.account)]
            + [
                version.document
                for policy in Policy.objects.filter(account=tenant.account)
                for version in policy.versions.all()
            ]
        )
        for other in TENANTS:
            if other == code:
                continue
            for value in self.identifiers(other):
                if value in written:
                    known.add(value)
        for session in RoleSession.objects.filter(account_id=tenant.account.pk):
            caller = session.caller_user
            if caller is not None:
                known.add(caller.name)
        own_users = list(tenant.users.values())
        for session in RoleSession.objects.filter(caller_user__in=own_users).select_related("role"):
            known |= {session.session_id, session.session_name, session.access_key_id}
            if session.role is not None:
                known |= {session.role.name, session.role.role_id}
        return known

    def forbidden_for(self, code: str) -> set[str]:
        """Identifiers of the other tenants that no response to tenant ``code`` may contain,
        unless the request itself carried them."""
        others = set().union(*(self.identifiers(other) for other in TENANTS if other != code))
        return others - self.known_to(code)


def trust(*principals: str, service: str = "", saml_provider: str = "") -> str:
    statement: dict = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {}}
    if principals:
        statement["Principal"]["RAM"] = list(principals)
    if service:
        statement["Principal"]["Service"] = [service]
    if saml_provider:
        statement["Principal"]["Federated"] = [saml_provider]
        statement["Condition"] = {"StringEquals": {"saml:recipient": saml.acs_url()}}
    return json.dumps({"Version": "1", "Statement": [statement]})


def system_policy(name: str) -> Policy:
    return Policy.objects.get(account__isnull=True, name=name)


def build_tenant(code: str) -> Tenant:
    actor = SYSTEM_ACTOR
    account = services.create_account(actor, f"tenant-{code}", email=f"root@{code}.example")
    tenant = Tenant(code, account)
    tenant.users["root"] = User.objects.get(account=account, kind=User.Kind.ROOT)
    for role_name, policies in (
        ("admin", ["AdministratorAccess"]),
        ("auditor", ["AliyunRAMReadOnlyAccess"]),
        ("plain", []),
        ("assumer", ["AliyunSTSAssumeRoleAccess"]),
        ("viewer", []),
    ):
        user = services.create_user(actor, account, tenant.name(role_name))
        for policy_name in policies:
            services.attach_policy(actor, user, system_policy(policy_name))
        tenant.users[role_name] = user
    for user_key in ("admin", "auditor", "plain", "assumer", "root"):
        new_key = services.create_access_key(actor, tenant.users[user_key])
        tenant.access_keys[user_key] = (new_key.access_key.access_key_id, new_key.secret)
    tenant.policy = services.create_policy(
        actor,
        account,
        tenant.name("policy"),
        document=json.dumps(
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}],
            }
        ),
    )
    tenant.group = services.create_group(actor, account, tenant.name("group"))
    services.add_user_to_group(actor, tenant.group, tenant.users["viewer"])
    services.attach_policy(actor, tenant.group, tenant.policy)
    build_identity_providers(tenant)
    build_mfa_device(tenant)
    return tenant


def build_mfa_device(tenant: Tenant) -> None:
    """A virtual MFA device bound to the tenant's viewer."""
    created = mfa.create_virtual_mfa_device(SYSTEM_ACTOR, tenant.account, tenant.name("mfa"))
    totp, now = pyotp.TOTP(created.seed), datetime.now(UTC).timestamp()
    tenant.mfa_device = mfa.bind_mfa_device(
        SYSTEM_ACTOR, created.device, tenant.users["viewer"], totp.at(now - 30), totp.at(now)
    )


def build_identity_providers(tenant: Tenant) -> None:
    """A SAML provider (a signing certificate of its own) and an OIDC provider whose issuer
    nobody serves (test_isolation.py makes every connection to it fail)."""
    tenant.saml_provider = providers.create_saml_provider(
        SYSTEM_ACTOR,
        tenant.account,
        tenant.name("saml-idp"),
        metadata=idp_metadata(f"{tenant.issuer}/saml", common_name=f"idp-{tenant.code}.example"),
    )
    tenant.oidc_provider = providers.create_oidc_provider(
        SYSTEM_ACTOR,
        tenant.account,
        tenant.name("oidc-idp"),
        issuer_url=tenant.issuer,
        client_ids=[tenant.name("client")],
        fingerprints=[tenant.fingerprint],
    )


def build_world() -> World:
    ensure_system_policies()
    services.create_service(SYSTEM_ACTOR, SERVICE)
    tenants = {code: build_tenant(code) for code in TENANTS}
    actor = SYSTEM_ACTOR
    for index, code in enumerate(TENANTS):
        tenant = tenants[code]
        following = tenants[TENANTS[(index + 1) % 3]]
        third = tenants[TENANTS[(index + 2) % 3]]
        own = services.create_role(
            actor,
            tenant.account,
            tenant.name("own-role"),
            trust_policy=trust(tenant.account.root_arn),
        )
        cross = services.create_role(
            actor,
            tenant.account,
            tenant.name("cross-role"),
            trust_policy=trust(
                following.account.root_arn,
                f"acs:ram::{third.account.pk}:user/{third.name('named')}",
            ),
        )
        service_role = services.create_role(
            actor, tenant.account, tenant.name("service-role"), trust_policy=trust(service=SERVICE)
        )
        saml_role = services.create_role(
            actor,
            tenant.account,
            tenant.name("saml-role"),
            trust_policy=trust(saml_provider=tenant.saml_provider.arn),  # type: ignore[union-attr]
        )
        services.attach_policy(actor, own, system_policy("AliyunRAMReadOnlyAccess"))
        services.attach_policy(actor, cross, tenant.policy)  # type: ignore[arg-type]
        services.attach_policy(actor, cross, system_policy("AliyunRAMReadOnlyAccess"))
        tenant.roles = {"own": own, "cross": cross, "service": service_role, "saml": saml_role}
    for index, code in enumerate(TENANTS):
        tenant = tenants[code]
        following = tenants[TENANTS[(index + 1) % 3]]
        assume(tenant.users["assumer"], tenant.roles["own"], tenant.name("own-session"))
        assume(following.users["assumer"], tenant.roles["cross"], following.name("cross-session"))
    return World(tenants)


def assume(user: User, role: Role, session_name: str) -> None:
    assume_role(
        identity_for_user(user),
        AssumeRoleInput(role_arn=role.arn, session_name=session_name),
        actor=SYSTEM_ACTOR,
    )


# --- sign-in material that no identity provider issued -------------------------------------------

# A SAML response signed by a key nobody registered; the same with a signature that is no
# signature; one whose IdP reports failure; a bare assertion. All well-formed and signed-looking,
# so that each passes every check that needs no provider.
SAML_FORGERIES = ("signed-by-nobody", "garbage-signature", "failed-response", "bare-assertion")
FAILURE = "urn:oasis:names:tc:SAML:2.0:status:Requester"


@cache
def nobody() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A signing key and its self-signed certificate (PEM) that no provider names."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tz-nobody.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(Encoding.PEM).decode("ascii")


def instant(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def forged_assertion(issuer: str, provider_arn: str, role_arn: str) -> etree._Element:
    """An assertion as the IdP ``issuer`` would write it for our ACS, naming the role and the
    provider, signed by nobody."""
    now = datetime.now(UTC)
    until = instant(now + timedelta(minutes=5))
    text = f"""<saml:Assertion xmlns:saml="{saml.SAML}" ID="_tz-assertion" Version="2.0"
    IssueInstant="{instant(now)}">
  <saml:Issuer>{issuer}</saml:Issuer>
  <saml:Subject>
    <saml:NameID>tz-subject</saml:NameID>
    <saml:SubjectConfirmation Method="{saml.BEARER}">
      <saml:SubjectConfirmationData Recipient="{saml.acs_url()}" NotOnOrAfter="{until}"/>
    </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="{instant(now - timedelta(minutes=1))}" NotOnOrAfter="{until}">
    <saml:AudienceRestriction><saml:Audience>{saml.sp_entity_id()}</saml:Audience>
    </saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AttributeStatement>
    <saml:Attribute Name="{saml.ROLE_ATTRIBUTE}">
      <saml:AttributeValue>{role_arn},{provider_arn}</saml:AttributeValue>
    </saml:Attribute>
    <saml:Attribute Name="{saml.SESSION_NAME_ATTRIBUTE}">
      <saml:AttributeValue>tz-subject</saml:AttributeValue>
    </saml:Attribute>
  </saml:AttributeStatement>
</saml:Assertion>"""
    key, certificate = nobody()
    signer = XMLSigner(signature_algorithm="ecdsa-sha256", digest_algorithm="sha256")
    return signer.sign(
        etree.fromstring(text), key=key, cert=certificate, reference_uri="_tz-assertion"
    )


def forged_saml_response(issuer: str, provider_arn: str, role_arn: str, forgery: str) -> str:
    """``SAMLAssertion`` / ``SAMLResponse``: base64 of one of ``SAML_FORGERIES``."""
    assertion = forged_assertion(issuer, provider_arn, role_arn)
    if forgery == "garbage-signature":
        value = assertion.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
        value.text = base64.b64encode(b"\x5a" * 64).decode("ascii")  # type: ignore[union-attr]
    signed = etree.tostring(assertion).decode("utf-8")
    if forgery == "bare-assertion":
        return base64.b64encode(signed.encode()).decode("ascii")
    status = FAILURE if forgery == "failed-response" else saml.SUCCESS
    response = f"""<samlp:Response xmlns:samlp="{saml.SAMLP}" xmlns:saml="{saml.SAML}"
    ID="_tz-response" Version="2.0" IssueInstant="{instant(datetime.now(UTC))}"
    Destination="{saml.acs_url()}">
  <saml:Issuer>{issuer}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>
  {signed}
</samlp:Response>"""
    return base64.b64encode(response.encode()).decode("ascii")


@cache
def nobodys_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "tz-nobody"})


def forged_id_token(issuer: str, client_id: str) -> str:
    """A well-formed ID token as the issuer would write it for ``client_id``, signed by nobody."""
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": issuer, "aud": client_id, "sub": "tz-subject", "iat": now, "exp": now + 600}
    header = {"alg": "RS256", "kid": "tz-nobody", "typ": "JWT"}
    return jwt.encode(header, claims, nobodys_rsa_key())
