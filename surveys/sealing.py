"""Sealed ballots: the campaign key, the scrutineers' shares, and ballot encryption.

Everything cryptographic of the surveys app lives here (docs/ballot-anonymity.md):
- `key_create` makes a fresh X25519 key pair (libsodium via PyNaCl) and splits the private key
  into `count` shares of which any `threshold` rebuild it (Shamir, PyCryptodome). Only the public
  key is returned for storage; the shares are returned once, as slips, and never stored.
- `ballot_seal` encrypts a ballot to the public key (a sealed box: anonymous sender, fresh
  ephemeral key per ballot) after padding it to a fixed length, so a ciphertext's size says
  nothing about the comment.
- `key_rebuild` turns the scrutineers' typed or scanned share codes back into the private key,
  in memory, or raises `ShareError` with a message for the scrutineers.

Why these libraries: PyNaCl binds libsodium, whose sealed boxes are exactly "encrypt to a public
key, nobody but the key holder decrypts, no sender identity". PyCryptodome's Shamir is a
maintained, reviewed implementation over GF(2^128); it shares 16-byte secrets, so the 32-byte
key is split into two halves, each shared with the same x-coordinates (a share slip carries both
halves' y-values; any `threshold` slips rebuild both halves). Hand-written sharing would be a
second crypto implementation to review.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir
from django.utils.translation import gettext as _
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

SHARE_VERSION = 1
# version(1) index(1) campaign tag(3) share(32) checksum(3) = 40 bytes = 64 base32 symbols.
_TAG_LEN = 3
_SUM_LEN = 3
_SHARE_BYTES = 1 + 1 + _TAG_LEN + 32 + _SUM_LEN
# Crockford's base32: no I, L, O, U, so a slip typed by hand has no look-alikes.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _RFC)

ANSWERS = ("satisfied", "basic", "not_satisfied")  # surveys.models.Answer values, in order
MAX_ASPECTS = 10
MAX_COMMENT_CHARS = 500
# 500 characters of UTF-8 are at most 2000 bytes; header 2 + 1 + 10 + 2 bytes.
PADDED_LENGTH = 2048
CIPHERTEXT_LENGTH = PADDED_LENGTH + 48  # ephemeral public key (32) + Poly1305 tag (16)


class ShareError(Exception):
    """A share slip that cannot be used; `message` is shown to the scrutineers as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Share:
    index: int
    tag: bytes
    value: bytes  # 32 bytes: y-values of the two 16-byte halves


def campaign_tag(public_key: bytes) -> bytes:
    """A short fingerprint of the campaign key, printed in every share (refuses mixed slips)."""
    return hashlib.sha256(b"lianqing-share-tag|" + public_key).digest()[:_TAG_LEN]


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(b"lianqing-share-sum|" + body).digest()[:_SUM_LEN]


def _encode(data: bytes) -> str:
    text = base64.b32encode(data).decode().rstrip("=").translate(_TO_CROCKFORD)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def public_key_of(stored: bytes | memoryview | None) -> bytes:
    """A campaign's stored public key as bytes (PostgreSQL returns a memoryview); callers check
    that the box is open first."""
    if stored is None:
        raise ValueError("the ballot box is not open")
    return bytes(stored)


def normalise_symbols(raw: str) -> str:
    text = (raw or "").upper()
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in text)
    text = text.replace("O", "0").replace("I", "1").replace("L", "1")
    return "".join(c for c in text if c in _CROCKFORD)


def key_create(*, threshold: int, count: int) -> tuple[bytes, list[str]]:
    """A fresh key pair: (public key bytes, share codes). The private key is dropped here."""
    if not 2 <= threshold <= count <= 9:
        raise ValueError("threshold/count out of range")
    private = PrivateKey.generate()
    secret = bytes(private)
    public = bytes(private.public_key)
    low = Shamir.split(threshold, count, secret[:16])
    high = Shamir.split(threshold, count, secret[16:])
    tag = campaign_tag(public)
    codes = []
    for (index, a), (index_b, b) in zip(low, high, strict=True):
        assert index == index_b
        body = bytes([SHARE_VERSION, index]) + tag + a + b
        codes.append(_encode(body + _checksum(body)))
    del private, secret
    return public, codes


def share_parse(raw: str, *, position: int) -> Share:
    """One share code → Share, or ShareError naming the field (`position`, from 1)."""
    text = normalise_symbols(raw)
    if not text:
        raise ShareError(_("第 %(n)s 份：请输入份额码。") % {"n": position})
    expected = (_SHARE_BYTES * 8 + 4) // 5
    if len(text) != expected:
        raise ShareError(
            _("第 %(n)s 份：份额码应为 %(len)s 位，现在是 %(got)s 位，请核对是否输全。")
            % {"n": position, "len": expected, "got": len(text)}
        )
    padded = text.translate(_FROM_CROCKFORD) + "=" * (-len(text) % 8)
    try:
        data = base64.b32decode(padded)
    except (ValueError, TypeError):
        raise ShareError(_("第 %(n)s 份：份额码有误，请核对。") % {"n": position}) from None
    body, checksum = data[:-_SUM_LEN], data[-_SUM_LEN:]
    if _checksum(body) != checksum or body[0] != SHARE_VERSION:
        raise ShareError(
            _("第 %(n)s 份：份额码校验不通过（可能有输错的字符），请逐位核对。") % {"n": position}
        )
    return Share(index=body[1], tag=body[2 : 2 + _TAG_LEN], value=body[2 + _TAG_LEN :])


def key_rebuild(*, raw_shares: list[str], public_key: bytes, threshold: int) -> PrivateKey:
    """Rebuild the private key from the scrutineers' share codes, in memory only.

    1. parse every non-empty code (length, checksum) — errors name the slip;
    2. refuse slips of another campaign (tag), duplicated slips (same index), too few slips;
    3. combine both halves with Shamir (any order of slips);
    4. check the rebuilt key's public half is the campaign's public key.
    """
    filled = [(n, raw) for n, raw in enumerate(raw_shares, start=1) if (raw or "").strip()]
    if len(filled) < threshold:
        raise ShareError(
            _("需要至少 %(k)s 名监票人的份额，现在只输入了 %(n)s 份。")
            % {"k": threshold, "n": len(filled)}
        )
    tag = campaign_tag(public_key)
    shares: list[Share] = []
    for position, raw in filled:
        share = share_parse(raw, position=position)
        if share.tag != tag:
            raise ShareError(
                _("第 %(n)s 份：这不是本次测评的份额（可能是其他测评的票签）。") % {"n": position}
            )
        if any(s.index == share.index for s in shares):
            raise ShareError(
                _("第 %(n)s 份与前面的一份是同一张份额票签，请使用不同监票人的份额。")
                % {"n": position}
            )
        shares.append(share)
    chosen = shares[:threshold]
    try:
        low = Shamir.combine([(s.index, s.value[:16]) for s in chosen])
        high = Shamir.combine([(s.index, s.value[16:]) for s in chosen])
    except ValueError:
        raise ShareError(_("份额无法组合，请核对各份额码。")) from None
    private = PrivateKey(low + high)
    if bytes(private.public_key) != public_key:
        raise ShareError(_("份额与本次测评的密钥不匹配，请核对各份额码。"))
    return private


def ballot_seal(*, public_key: bytes, overall: str, aspects: list[str], comment: str) -> bytes:
    """Pad and encrypt one ballot. Layout: version, overall, n, n aspect answers, comment length
    (2 bytes), comment UTF-8, zeros up to PADDED_LENGTH."""
    encoded = comment.encode("utf-8")
    if len(comment) > MAX_COMMENT_CHARS or len(aspects) > MAX_ASPECTS:
        raise ValueError("ballot too long")
    body = (
        bytes([1, ANSWERS.index(overall), len(aspects)])
        + bytes(ANSWERS.index(a) for a in aspects)
        + len(encoded).to_bytes(2, "big")
        + encoded
    )
    if len(body) > PADDED_LENGTH:
        raise ValueError("ballot too long")
    return SealedBox(PublicKey(public_key)).encrypt(body + bytes(PADDED_LENGTH - len(body)))


def ballot_open(*, private_key: PrivateKey, ciphertext: bytes) -> tuple[str, list[str], str]:
    """Decrypt one ballot → (overall, aspects, comment). Raises CryptoError / ValueError."""
    data = SealedBox(private_key).decrypt(bytes(ciphertext))
    if len(data) != PADDED_LENGTH or data[0] != 1:
        raise ValueError("not a ballot")
    overall = ANSWERS[data[1]]
    n = data[2]
    aspects = [ANSWERS[i] for i in data[3 : 3 + n]]
    length = int.from_bytes(data[3 + n : 5 + n], "big")
    comment = data[5 + n : 5 + n + length].decode("utf-8")
    return overall, aspects, comment


def receipt_for(ciphertext: bytes) -> str:
    """The voter's receipt: the SHA-256 of their ciphertext, first 100 bits in base32 (20
    symbols), enough to tell any two ballots of the world apart."""
    digest = hashlib.sha256(bytes(ciphertext)).digest()
    text = base64.b32encode(digest).decode()[:20].translate(_TO_CROCKFORD)
    return "-".join(text[i : i + 4] for i in range(0, 20, 4))


__all__ = [
    "CryptoError",
    "ShareError",
    "ballot_open",
    "ballot_seal",
    "key_create",
    "key_rebuild",
    "receipt_for",
]
