"""Receipts: the short, unguessable code an asker keeps to follow a question (Decree 42/2022, Điều 8)."""

from __future__ import annotations

import base64
import re
import secrets

# Crockford's base32: no I, L, O, U, so a receipt read aloud over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LEN = 4  # 12 symbols = 60 bits: unguessable at any rate a rate limiter allows
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SHAPE = re.compile(rf"^[{ALPHABET}]{{{GROUPS * GROUP_LEN}}}$")


# 10 random bytes encode to 16 base32 symbols, of which the first GROUPS × GROUP_LEN are used, each 5
# uniform bits from the OS's CSPRNG. One call for a whole batch, the symbols mapped to the alphabet in
# C: not a loop in Python per receipt (the writer makes hundreds per batch, bench/intake.py).
_BYTES = 10
_SYMBOLS = 16
assert GROUPS * GROUP_LEN <= _SYMBOLS
_TO_ALPHABET = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def new_receipts(count: int) -> list[str]:
    symbols = base64.b32encode(secrets.token_bytes(_BYTES * count)).translate(_TO_ALPHABET).decode()
    groups = range(0, GROUPS * GROUP_LEN, GROUP_LEN)
    return [
        "-".join([symbols[start + g : start + g + GROUP_LEN] for g in groups])
        for start in range(0, _SYMBOLS * count, _SYMBOLS)
    ]


def normalize_receipt(raw: str) -> str | None:
    """Accept what a person types: lower case, spaces or no dashes, O for 0. None if it cannot be one."""
    compact = re.sub(r"[\s\-]", "", raw).upper().translate(_CONFUSABLE)
    if not _SHAPE.match(compact):
        return None
    return "-".join(compact[i : i + GROUP_LEN] for i in range(0, len(compact), GROUP_LEN))
