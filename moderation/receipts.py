"""Receipts: the short, unguessable code an asker keeps to follow a question (Decree 42/2022, Điều 8)."""

from __future__ import annotations

import re
import secrets

# Crockford's base32: no I, L, O, U, so a receipt read aloud over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LEN = 4  # 12 symbols = 60 bits: unguessable at any rate a rate limiter allows
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SHAPE = re.compile(rf"^[{ALPHABET}]{{{GROUPS * GROUP_LEN}}}$")


def new_receipt() -> str:
    bits = secrets.randbits(5 * GROUPS * GROUP_LEN)  # one call to the OS's CSPRNG, not one per symbol
    symbols = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(GROUPS * GROUP_LEN))
    return "-".join(symbols[i : i + GROUP_LEN] for i in range(0, len(symbols), GROUP_LEN))


def normalize_receipt(raw: str) -> str | None:
    """Accept what a person types: lower case, spaces or no dashes, O for 0. None if it cannot be one."""
    compact = re.sub(r"[\s\-]", "", raw).upper().translate(_CONFUSABLE)
    if not _SHAPE.match(compact):
        return None
    return "-".join(compact[i : i + GROUP_LEN] for i in range(0, len(compact), GROUP_LEN))
