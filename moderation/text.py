"""Text hygiene for everything a viewer types: NFC, no control or bidi-override characters."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _keep(ch: str, newlines: bool) -> bool:
    if ch == "\n":
        return newlines
    if ch == "\t":
        return True
    # Cc: control characters; Cf: format characters (zero-width, bidi overrides that can
    # disguise text on a moderator's screen). Cs/Co: surrogates and private use.
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")


def _already_clean(value: str) -> bool:
    # The common case, checked in C: printable (no Cc/Cf/Cs/Co/Cn, no separators but the ASCII
    # space) and already NFC. Only other text pays for the character-by-character pass.
    return value.isprintable() and unicodedata.is_normalized("NFC", value)


def clean_line(value: str) -> str:
    """One-line fields (names, addresses): NFC, controls removed, runs of spaces folded."""
    if not _already_clean(value):
        value = unicodedata.normalize("NFC", value.replace("\r\n", " ").replace("\n", " "))
        value = "".join(ch for ch in value if _keep(ch, newlines=False))
    return _fold_spaces(value)


def _fold_spaces(line: str) -> str:
    # Clean text holds no whitespace but ASCII spaces (isprintable excludes the rest), so the
    # regular expression is needed only where two of them meet or after the slow path.
    if "  " in line or not line.isprintable():
        line = _SPACES.sub(" ", line)
    return line.strip()


def clean_text(value: str) -> str:
    """Multi-line text (the question): NFC, controls removed, at most one blank line in a row."""
    if not _already_clean(value.replace("\n", "")):
        value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
        value = "".join(ch for ch in value if _keep(ch, newlines=True))
    value = "\n".join([_fold_spaces(line) for line in value.split("\n")])
    if "\n\n\n" in value:
        value = _MANY_NEWLINES.sub("\n\n", value)
    return value.strip()


def fold(value: str) -> str:
    """Diacritic-insensitive form for search: "Đất đai" -> "dat dai"."""
    value = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in value if unicodedata.category(ch) != "Mn").lower()
