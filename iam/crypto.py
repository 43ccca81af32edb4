"""Encryption of stored secrets (access key secrets) with the key ring from settings."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from iam.ciphers import KeyRing, SecretBox


@cache
def key_ring_for(secrets: tuple[str, ...]) -> KeyRing:
    return KeyRing.from_secrets(list(secrets))


def key_ring() -> KeyRing:
    return key_ring_for(tuple(settings.TOKEN_KEYS))


def secret_box() -> SecretBox:
    return SecretBox(key_ring(), purpose=b"access-key-secret")


def encrypt_secret(plaintext: str) -> str:
    return secret_box().encrypt(plaintext)


def decrypt_secret(ciphertext: str) -> str:
    return secret_box().decrypt(ciphertext)
