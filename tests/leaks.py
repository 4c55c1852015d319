"""Checks that a page or a log carries nothing of an asker's phone.

A bare substring such as "0987" is not a safe probe: a page's ``datetime="…53.109879+00:00"`` contains it by chance
(CI failed on exactly that once). These checks look for the whole number, however it is written.
"""
from __future__ import annotations

import re


def phone_pattern(phone: str) -> re.Pattern[str]:
    """The national number's digits after the trunk 0 or +84, with any separators between them."""
    digits = re.sub(r"\D", "", phone)
    digits = digits[2:] if digits.startswith("84") else digits.lstrip("0")
    return re.compile(r"(?<!\d)(?:\+?84|0)?[\s.\-]*" + r"[\s.\-]*".join(digits) + r"(?!\d)")


def shows_phone(text: str, phone: str) -> bool:
    return phone_pattern(phone).search(text) is not None
