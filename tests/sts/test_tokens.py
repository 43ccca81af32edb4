"""Role tokens and the key ring: round trips, tampering, rotation, expiry, binding, SecretBox."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iam.ciphers import InvalidCiphertext, KeyRing, SecretBox, b64url_decode, b64url_encode
from sts.tokens import (
    PAYLOAD_ZLIB_JSON,
    RoleTokenClaims,
    TokenError,
    check_bound,
    decode_claims,
    deflate,
    encode_claims,
    issue_token,
    new_secret,
    new_sts_access_key_id,
    open_token,
)

ISSUED_AT = 1_704_067_200  # 2024-01-01T00:00:00Z
NOW = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
RING = KeyRing.from_secrets(["current-token-key-0123456789abcdef"])
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SESSION_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [f"oss:GetObject{i}" for i in range(60)],
                "Resource": [f"acs:oss:*:1234567890123456:bucket-{i}/*" for i in range(25)],
            }
        ],
    }
)[:2048]


def make_claims(**changes: object) -> RoleTokenClaims:
    claims = RoleTokenClaims(
        access_key_id="STS.NUQNP4PiGyckMsNiGELCsAbc",
        access_key_secret="wyLTSmsyPGP1ohvvw8xYgB29dlGI8KMiH2pKqRst",
        account_id="1234567890123456",
        role_id="345584339364951234",
        role_name="adminrole",
        session_name="alice",
        session_id="8a6f2c0e4b1d4f7e9c3a5b7d9e1f3a5c",
        issued_at=ISSUED_AT,
        expires_at=ISSUED_AT + 3600,
        source_identity="acs:ram::6543210987654321:user/alice",
        source_account_id="6543210987654321",
        caller_arn="acs:ram::6543210987654321:user/alice",
    )
    return replace(claims, **changes)  # type: ignore[arg-type]


def malformed(token: str, ring: KeyRing = RING) -> bool:
    with pytest.raises(TokenError) as caught:
        open_token(token, ring, now=NOW)
    return caught.value.code == "InvalidSecurityToken.Malformed"


# -- round trip and shape ---------------------------------------------------------------------


def test_a_token_round_trips_its_claims() -> None:
    claims = make_claims(
        session_policy=SESSION_POLICY,
        chain_depth=2,
        external_id="ext-1",
        source_ip="10.0.0.1",
        user_agent="sdk/1 中文",
        user_source_identity="alice@example",
        mfa_present=True,
    )

    assert open_token(issue_token(claims, RING), RING, now=NOW) == claims


def test_a_token_with_only_required_claims_round_trips() -> None:
    claims = make_claims()

    assert open_token(issue_token(claims, RING), RING, now=NOW) == claims


def test_a_token_starts_with_cais_and_needs_no_url_escaping() -> None:
    token = issue_token(make_claims(), RING)

    assert token.startswith("CAIS")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


def test_a_token_does_not_reveal_the_session_secret() -> None:
    claims = make_claims()
    token = issue_token(claims, RING)
    decoded = b64url_decode(token[4:])

    assert claims.access_key_secret not in token
    assert claims.access_key_secret.encode() not in decoded
    assert b"alice" not in decoded


def test_two_tokens_for_the_same_claims_differ() -> None:
    assert issue_token(make_claims(), RING) != issue_token(make_claims(), RING)


def test_tokens_stay_compact() -> None:
    typical = issue_token(make_claims(), RING)
    with_policy = issue_token(make_claims(session_policy=SESSION_POLICY), RING)

    assert len(typical) < 500
    assert len(with_policy) < len(typical) + len(SESSION_POLICY) // 2


def test_issuing_refuses_a_claim_of_the_wrong_type() -> None:
    with pytest.raises(ValueError, match="chain_depth"):
        issue_token(make_claims(chain_depth="1"), RING)


# -- tampering --------------------------------------------------------------------------------


def with_character_changed(text: str, position: int, shift: int) -> str:
    """``text`` with one base64url character replaced by another (drawn independently of it)."""
    position %= len(text)
    replacement = BASE64URL[(BASE64URL.find(text[position]) + shift) % len(BASE64URL)]
    return text[:position] + replacement + text[position + 1 :]


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0, max_value=10_000), shift=st.integers(1, 63))
def test_changing_any_character_makes_the_token_malformed(position: int, shift: int) -> None:
    token = issue_token(make_claims(), RING)

    assert malformed(with_character_changed(token, position, shift))


@pytest.mark.parametrize("token", ["", "CAIS", "CAIS!!!!", "not-a-token", "CAIS" + "A" * 200])
def test_garbage_is_malformed(token: str) -> None:
    assert malformed(token)


def test_a_truncated_or_extended_token_is_malformed() -> None:
    token = issue_token(make_claims(), RING)

    assert malformed(token[:-4])
    assert malformed(token + "AAAA")


def test_an_unknown_envelope_version_is_malformed() -> None:
    envelope = bytearray(b64url_decode(issue_token(make_claims(), RING)[4:]))
    envelope[0] = 2

    assert malformed("CAIS" + b64url_encode(bytes(envelope)))


def test_standard_base64_spelling_is_not_accepted() -> None:
    token = issue_token(make_claims(), RING)
    standard = base64.b64encode(b64url_decode(token[4:])).decode()

    assert standard != token[4:]
    assert malformed("CAIS" + standard)


def test_a_secret_box_ciphertext_is_not_a_token() -> None:
    ciphertext = SecretBox(RING).encrypt("secret")

    assert malformed("CAIS" + ciphertext.removeprefix(SecretBox.PREFIX))


# -- keys and rotation ------------------------------------------------------------------------


def test_a_token_from_an_unknown_key_is_malformed() -> None:
    other = KeyRing.from_secrets(["someone-elses-key-0123456789abcdef"])

    assert malformed(issue_token(make_claims(), other))


def test_a_token_from_the_old_key_opens_after_rotation() -> None:
    old_token = issue_token(make_claims(), RING)
    rotated = KeyRing.from_secrets(
        ["new-token-key-abcdef0123456789", "current-token-key-0123456789abcdef"]
    )

    assert open_token(old_token, rotated, now=NOW) == make_claims()


def test_a_ring_without_the_old_key_rejects_its_tokens() -> None:
    old_token = issue_token(make_claims(), RING)
    retired = KeyRing.from_secrets(["new-token-key-abcdef0123456789"])

    assert malformed(old_token, retired)


def test_the_first_key_of_the_ring_signs() -> None:
    rotated = KeyRing.from_secrets(
        ["new-token-key-abcdef0123456789", "current-token-key-0123456789abcdef"]
    )

    assert malformed(issue_token(make_claims(), rotated), RING)


def test_configuration_order_does_not_change_key_ids() -> None:
    forward = KeyRing.from_secrets(["one-0123456789abcdef", "two-0123456789abcdef"])
    backward = KeyRing.from_secrets(["two-0123456789abcdef", "one-0123456789abcdef"])

    assert set(forward.key_ids) == set(backward.key_ids)
    assert open_token(issue_token(make_claims(), forward), backward, now=NOW) == make_claims()


def test_derived_rings_separate_purposes() -> None:
    tokens = RING.derive(b"role-token")
    secrets = RING.derive(b"access-key-secret")

    assert tokens.key_ids != secrets.key_ids
    assert RING.derive(b"role-token") is tokens


@pytest.mark.parametrize(
    "keys",
    [[], [("k", b"short")], [("k", b"\0" * 32), ("k", b"\1" * 32)], [("", b"\0" * 32)]],
)
def test_a_key_ring_refuses_bad_keys(keys: list[tuple[str, bytes]]) -> None:
    with pytest.raises(ValueError):
        KeyRing(keys)


def test_a_key_ring_refuses_empty_secrets() -> None:
    with pytest.raises(ValueError):
        KeyRing.from_secrets([""])


# -- expiry and binding -----------------------------------------------------------------------


def test_an_expired_token_is_refused() -> None:
    token = issue_token(make_claims(expires_at=ISSUED_AT + 900), RING)

    with pytest.raises(TokenError) as caught:
        open_token(token, RING, now=datetime.fromtimestamp(ISSUED_AT + 900, UTC))

    assert (caught.value.code, caught.value.http_status) == ("InvalidSecurityToken.Expired", 400)
    assert caught.value.message == "Specified SecurityToken is expired."


def test_a_token_is_good_until_its_last_second() -> None:
    token = issue_token(make_claims(expires_at=ISSUED_AT + 900), RING)

    claims = open_token(token, RING, now=datetime.fromtimestamp(ISSUED_AT + 899, UTC))

    assert claims.expires_at == ISSUED_AT + 900


def test_a_token_presented_with_another_access_key_is_refused() -> None:
    with pytest.raises(TokenError) as caught:
        check_bound(make_claims(), "STS.someoneElse")

    assert caught.value.code == "InvalidSecurityToken.MismatchWithAccessKey"
    assert caught.value.message == "Specified SecurityToken mismatch with the AccessKey."


def test_a_token_presented_with_its_own_access_key_is_bound() -> None:
    claims = make_claims()

    assert check_bound(claims, claims.access_key_id) is None


# -- identifiers ------------------------------------------------------------------------------


def test_sts_access_key_ids_have_the_alibaba_shape() -> None:
    assert re.fullmatch(r"STS\.[A-Za-z0-9]{24}", new_sts_access_key_id())
    assert new_sts_access_key_id() != new_sts_access_key_id()


def test_secrets_are_40_base62_characters() -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{40}", new_secret())


def test_secret_characters_are_uniform() -> None:
    """No modulo bias: 62,000 characters give each of the 62 about 1,000 times (a biased map of
    bytes onto the alphabet would give the first 8 characters about 1,240)."""
    counts = Counter("".join(new_secret(62) for _ in range(1000)))
    assert len(counts) == 62
    assert all(850 < count < 1150 for count in counts.values()), counts


# -- SecretBox --------------------------------------------------------------------------------


def test_secret_box_round_trips() -> None:
    box = SecretBox(RING)

    assert box.decrypt(box.encrypt("s3cr3t/+ é 中")) == "s3cr3t/+ é 中"


def test_secret_box_hides_the_plaintext_and_never_repeats() -> None:
    box = SecretBox(RING)
    first, second = box.encrypt("s3cr3t-value"), box.encrypt("s3cr3t-value")

    assert first != second
    assert "s3cr3t" not in first


@settings(max_examples=100, deadline=None)
@given(position=st.integers(min_value=0, max_value=10_000), shift=st.integers(1, 63))
def test_secret_box_detects_tampering(position: int, shift: int) -> None:
    box = SecretBox(RING)
    body = box.encrypt("s3cr3t-value").removeprefix(SecretBox.PREFIX)

    with pytest.raises(InvalidCiphertext):
        box.decrypt(SecretBox.PREFIX + with_character_changed(body, position, shift))


def test_secret_box_refuses_a_value_without_its_prefix() -> None:
    with pytest.raises(InvalidCiphertext):
        SecretBox(RING).decrypt("plaintext-secret")


def test_secret_box_decrypts_with_an_old_key_after_rotation() -> None:
    ciphertext = SecretBox(RING).encrypt("s3cr3t")
    rotated = SecretBox(
        KeyRing.from_secrets(["new-key-0123456789abcdef", "current-token-key-0123456789abcdef"])
    )

    assert rotated.decrypt(ciphertext) == "s3cr3t"
    assert rotated.needs_reencryption(ciphertext)
    assert not rotated.needs_reencryption(rotated.encrypt("s3cr3t"))


def test_secret_box_purposes_do_not_open_each_other() -> None:
    ciphertext = SecretBox(RING, purpose=b"access-key-secret").encrypt("s3cr3t")

    with pytest.raises(InvalidCiphertext):
        SecretBox(RING, purpose=b"something-else").decrypt(ciphertext)


def test_claims_deflated_with_the_default_window_still_decode() -> None:
    """Tokens minted before the small compression window (zlib's 32 KiB default) still open."""
    claims = make_claims(session_policy=SESSION_POLICY)
    payload = encode_claims(claims)
    assert payload[0] == PAYLOAD_ZLIB_JSON
    raw = zlib.decompress(payload[1:])
    assert decode_claims(bytes([PAYLOAD_ZLIB_JSON]) + zlib.compress(raw, 9)) == claims


def test_the_small_window_compresses_the_largest_claims_as_well_as_the_default() -> None:
    longest_policy = (SESSION_POLICY * (2048 // len(SESSION_POLICY) + 1))[:2048]
    claims = make_claims(session_policy=longest_policy, user_agent="sdk/1 " * 50)
    raw = zlib.decompress(encode_claims(claims)[1:])
    assert len(deflate(raw)) <= len(zlib.compress(raw, 9)) + 8
