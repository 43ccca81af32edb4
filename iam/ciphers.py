"""Key ring and authenticated encryption shared by role tokens and stored secrets.

Pure Python (no Django): callers hand in the key material, usually from ``settings.TOKEN_KEYS``.

Key ring
    An ordered list of ``(key_id, 32-byte key)``. The **first** key is the active one: it seals
    everything new. Every key in the ring opens what it sealed, so rotation is "put the new key in
    front, keep the old ones behind it until nothing they sealed is still alive, then drop them".
    ``KeyRing.from_secrets`` turns configured strings into keys with HKDF-SHA256 and names each key
    by a short hash of the derived key, so reordering the configuration never breaks opening.
    HKDF is not a password hash: configured secrets must be high-entropy random strings.

Domain separation
    ``KeyRing.derive(purpose)`` gives a ring of sub-keys for one purpose (role tokens, access-key
    secrets at rest, …). A ciphertext sealed for one purpose cannot be opened as another: the keys
    differ, and the purpose is also bound as associated data.

Envelope (binary)
    ``version (1 byte) | len(key_id) (1 byte) | key_id (ASCII) | nonce (12 bytes) | ciphertext+tag``

    AES-256-GCM with a random 96-bit nonce. The header (version and key id) plus the caller's
    ``context`` label are the associated data, so neither can be swapped without the tag failing.
    A random 96-bit nonce is safe for well over 2**32 messages per key before collisions become a
    concern; keys are rotated long before that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
ENVELOPE_VERSION = 1
ROOT_SALT = b"ram-console/key-ring/v1"
PURPOSE_PREFIX = b"ram-console/purpose/"


class InvalidCiphertext(ValueError):
    """Raised when a ciphertext is malformed, tampered with, or sealed by a key not in the ring."""


def _hkdf(key_material: bytes, *, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(
        key_material
    )


def key_id_for(key: bytes) -> str:
    """A short, stable name for a key: the first 8 hex digits of its SHA-256.

    32 bits of a hash of a 256-bit random key reveal nothing useful about the key.
    """
    return hashlib.sha256(key).hexdigest()[:8]


class KeyRing:
    """Ordered ``(key_id, key)`` pairs; the first is the active sealing key."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        seen: set[str] = set()
        for key_id, key in keys:
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} must be {KEY_BYTES} bytes")
            if not key_id or len(key_id) > 255 or not key_id.isascii():
                raise ValueError(f"key id {key_id!r} must be 1-255 ASCII characters")
            if key_id in seen:
                raise ValueError(f"duplicate key id {key_id!r}")
            seen.add(key_id)
        self._keys: tuple[tuple[str, bytes], ...] = tuple(keys)
        self._ciphers: dict[str, AESGCM] = {key_id: AESGCM(key) for key_id, key in self._keys}
        self._derived: dict[bytes, KeyRing] = {}

    @classmethod
    def from_secrets(cls, secrets: Sequence[str]) -> KeyRing:
        """Derive a ring from configured strings, newest first (the first one seals)."""
        if not secrets:
            raise ValueError("at least one secret is required")
        keys: list[tuple[str, bytes]] = []
        for secret in secrets:
            if not secret:
                raise ValueError("secrets must not be empty")
            key = _hkdf(secret.encode("utf-8"), salt=ROOT_SALT, info=b"root")
            keys.append((key_id_for(key), key))
        return cls(keys)

    @property
    def active_key_id(self) -> str:
        return self._keys[0][0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ciphers

    def derive(self, info: bytes) -> KeyRing:
        """The ring of sub-keys for one purpose, in the same order (cached per purpose)."""
        derived = self._derived.get(info)
        if derived is None:
            sub_keys = [_hkdf(key, salt=None, info=PURPOSE_PREFIX + info) for _, key in self._keys]
            derived = KeyRing([(key_id_for(key), key) for key in sub_keys])
            self._derived[info] = derived
        return derived

    def cipher(self, key_id: str) -> AESGCM | None:
        return self._ciphers.get(key_id)


def _envelope_header(key_id: str) -> bytes:
    encoded_id = key_id.encode("ascii")
    return bytes([ENVELOPE_VERSION, len(encoded_id)]) + encoded_id


def seal(keyring: KeyRing, plaintext: bytes, *, context: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` with the ring's active key."""
    key_id = keyring.active_key_id
    header = _envelope_header(key_id)
    nonce = os.urandom(NONCE_BYTES)
    cipher = keyring.cipher(key_id)
    assert cipher is not None
    return header + nonce + cipher.encrypt(nonce, plaintext, header + context)


def envelope_key_id(envelope: bytes) -> str:
    """The key id named in an envelope's header (not authenticated until ``unseal``)."""
    if len(envelope) < 2 or envelope[0] != ENVELOPE_VERSION:
        raise InvalidCiphertext("unknown envelope version")
    id_length = envelope[1]
    if len(envelope) < 2 + id_length:
        raise InvalidCiphertext("truncated envelope")
    try:
        return envelope[2 : 2 + id_length].decode("ascii")
    except UnicodeDecodeError as error:
        raise InvalidCiphertext("key id is not ASCII") from error


def unseal(keyring: KeyRing, envelope: bytes, *, context: bytes) -> bytes:
    """Open an envelope sealed by any key of the ring for the same ``context``."""
    key_id = envelope_key_id(envelope)
    header_length = 2 + len(key_id)
    if len(envelope) < header_length + NONCE_BYTES + 16:
        raise InvalidCiphertext("truncated envelope")
    cipher = keyring.cipher(key_id)
    if cipher is None:
        raise InvalidCiphertext(f"unknown key id {key_id!r}")
    header = envelope[:header_length]
    nonce = envelope[header_length : header_length + NONCE_BYTES]
    try:
        return cipher.decrypt(nonce, envelope[header_length + NONCE_BYTES :], header + context)
    except InvalidTag as error:
        raise InvalidCiphertext("authentication failed") from error


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url: rejects foreign characters and non-canonical encodings.

    The standard decoder ignores junk characters and the unused low bits of the last character,
    which would let two different strings decode to the same bytes; a token or ciphertext must have
    exactly one spelling.
    """
    if not text.isascii():
        raise InvalidCiphertext("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidCiphertext("not base64url") from error
    if b64url_encode(data) != text:
        raise InvalidCiphertext("not canonical base64url")
    return data


class SecretBox:
    """Encrypts short secrets (access-key secrets) for storage at rest.

    ``encrypt`` uses the active key; ``decrypt`` accepts any key still in the ring, so rotating the
    configured keys never strands stored secrets. ``needs_reencryption`` tells a maintenance job
    which stored values to rewrite under the active key before an old key is removed.
    """

    PREFIX = "sb1:"

    def __init__(self, keyring: KeyRing, purpose: bytes = b"access-key-secret") -> None:
        self._context = b"secret-box/" + purpose
        self._keyring = keyring.derive(self._context)

    def encrypt(self, plaintext: str) -> str:
        envelope = seal(self._keyring, plaintext.encode("utf-8"), context=self._context)
        return self.PREFIX + b64url_encode(envelope)

    def decrypt(self, ciphertext: str) -> str:
        plaintext = unseal(self._keyring, self._envelope(ciphertext), context=self._context)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidCiphertext("plaintext is not UTF-8") from error

    def needs_reencryption(self, ciphertext: str) -> bool:
        return envelope_key_id(self._envelope(ciphertext)) != self._keyring.active_key_id

    def _envelope(self, ciphertext: str) -> bytes:
        if not ciphertext.startswith(self.PREFIX):
            raise InvalidCiphertext("not a secret box ciphertext")
        return b64url_decode(ciphertext[len(self.PREFIX) :])
