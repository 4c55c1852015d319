"""Receipts: the short, unguessable code an asker keeps to follow a question (Decree 42/2022, Điều 8)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

# Crockford's base32: no I, L, O, U, so a receipt read aloud over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LEN = 4  # 12 symbols = 60 bits: unguessable at any rate a rate limiter allows
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SHAPE = re.compile(rf"^[{ALPHABET}]{{{GROUPS * GROUP_LEN}}}$")


# A receipt is a keyed hash of what the client sent it with: the session's secret receipt key
# (sessions.receipt_key, never shown) and the submission's idempotency key. A resend finds its
# question by the receipt it would get, so one unique index serves receipts and idempotency: the
# register's indexes on random keys were most of the writer's work per question (bench/intake.py).
# Unguessable without the session's key; 60 bits of a BLAKE2b MAC, 12 symbols. The digests of a
# whole batch are encoded in one call and mapped to the alphabet in C, not in a loop per receipt.
_BYTES = 10  # encodes to 16 base32 symbols, of which the first GROUPS × GROUP_LEN are used
_SYMBOLS = 16
assert GROUPS * GROUP_LEN <= _SYMBOLS
_TO_ALPHABET = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def new_receipt_key() -> str:
    """A session's receipt key (hex), made once when the session is created."""
    return secrets.token_hex(16)


def receipts_for(receipt_key: str, idempotency_keys: list[str]) -> list[str]:
    keyed = hashlib.blake2b(key=bytes.fromhex(receipt_key), digest_size=_BYTES)
    digests = []
    for k in idempotency_keys:
        mac = keyed.copy()  # cheaper than keying a new hash for each
        mac.update(k.encode())
        digests.append(mac.digest())
    symbols = base64.b32encode(b"".join(digests)).translate(_TO_ALPHABET).decode()
    groups = range(0, GROUPS * GROUP_LEN, GROUP_LEN)
    return [
        "-".join([symbols[start + g : start + g + GROUP_LEN] for g in groups])
        for start in range(0, _SYMBOLS * len(idempotency_keys), _SYMBOLS)
    ]


def normalize_receipt(raw: str) -> str | None:
    """Accept what a person types: lower case, spaces or no dashes, O for 0. None if it cannot be one."""
    compact = re.sub(r"[\s\-]", "", raw).upper().translate(_CONFUSABLE)
    if not _SHAPE.match(compact):
        return None
    return "-".join(compact[i : i + GROUP_LEN] for i in range(0, len(compact), GROUP_LEN))
