"""Self-signed certificates for the tests: identity providers' signing certificates, an HTTPS
issuer's server certificate, metadata documents' certificates that expire when a test says."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def self_signed(
    common_name: str,
    *,
    days: int = 365,
    valid_since: timedelta = timedelta(days=1),
    key: PrivateKey | None = None,
    extensions: Iterable[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """A certificate of ``common_name`` signed by its own ``key`` (a new P-256 key if none),
    valid from ``valid_since`` ago until ``days`` from now (in the past if negative), with
    ``extensions`` as (extension, critical) pairs."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - valid_since)
        .not_valid_after(now + timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())
