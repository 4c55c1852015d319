"""The asker: who sent a question. Personal data (Hải Phòng Điều 21; Law 91/2025/QH15).

Name, address and phone are kept in their own table and only ever leave the store through the
functions here: the public and the chair get `public_name`, staff get `masked()` by default."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# Mobile: 03x, 05x, 07x, 08x, 09x + 8 digits. Landline: 02 + area code + number, 11 digits in all.
MOBILE = re.compile(r"^0[35789]\d{8}$")
LANDLINE = re.compile(r"^02\d{9}$")


# -- privacy (moderation/retention.py): what an erased identity's name becomes; shown as it is,
# masked or not (a placeholder is no name to shorten) --
ERASED_BY_RETENTION = "Đã xoá theo thời hạn lưu trữ"
ERASED_ON_REQUEST = "Đã xoá theo yêu cầu của người hỏi"
ERASED_NAMES = frozenset({ERASED_BY_RETENTION, ERASED_ON_REQUEST})
# -- end privacy --


class AskerKind(enum.StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class NameShown(enum.StrEnum):
    """How the asker chose to be named in public (on the session page, the overlay, the chair's screen)."""

    FULL = "full"  # "Nguyễn Văn An"
    SHORT = "short"  # "Nguyễn V. A."
    ANONYMOUS = "anonymous"  # "Người hỏi ẩn danh"


def normalize_phone(raw: str) -> str | None:
    """Return the number as 0XXXXXXXXX, or None if it is not a Vietnamese phone number."""
    digits = PHONE_SEPARATORS.sub("", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    if MOBILE.match(digits) or LANDLINE.match(digits):
        return digits
    return None


# -- notify: the asker's optional e-mail (asker.email), where they are told of the follow-up --
EMAIL_MAX = 254  # askers.email; RFC 5321's path limit
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def normalize_email(raw: str) -> str | None:
    """The address with its domain lower-cased, or None if it is not one a mail server would take:
    one @, a dotted domain of letters, digits and hyphens, no spaces, no display name, no IP literal."""
    value = raw.strip()
    if len(value) > EMAIL_MAX or not EMAIL.match(value) or ".." in value or value.startswith("."):
        return None
    local, domain = value.rsplit("@", 1)
    if local.endswith(".") or domain.rsplit(".", 1)[-1].isdigit():
        return None
    return f"{local}@{domain.lower()}"


def masked_email(email: str) -> str:
    """"an.nguyen@gmail.com" -> "a…@gmail.com": enough to tell two apart, not to write to."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"
# -- end notify --


def short_name(name: str) -> str:
    """Vietnamese names put the family name first: keep it, reduce the rest to initials."""
    parts = name.split()
    if len(parts) <= 1:
        return name
    return " ".join([parts[0], *(p[0] + "." for p in parts[1:])])


def address_area(address: str) -> str:
    """The district, never the street: "12 Lạch Tray, Ngô Quyền, Hải Phòng" -> "Ngô Quyền".

    Parts with a digit (house numbers, lanes) are dropped; of what is left the last but one is
    usually the district, the last the city. A one-part address shows nothing: it may be a street."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) < 2:
        return ""
    areas = [p for p in parts if not any(ch.isdigit() for ch in p)]
    if len(areas) >= 2:
        return areas[-2]
    return areas[0] if areas else ""


@dataclass(frozen=True)
class Asker:
    kind: AskerKind
    name: str
    address: str
    phone: str
    name_shown: NameShown = NameShown.SHORT
    email: str | None = None  # optional: where the asker is told of the follow-up (notify/)

    @property
    def public_name(self) -> str:
        if self.name_shown is NameShown.ANONYMOUS:
            return ""  # the page renders its localized "anonymous" label
        if self.name_shown is NameShown.FULL or self.kind is AskerKind.ORGANIZATION:
            return self.name
        return short_name(self.name)

    def masked(self) -> dict[str, str]:
        """What a staff screen shows by default: "Nguyễn V. A., Ngô Quyền", phone ending 678."""
        return {
            "kind": self.kind.value,
            "name": short_name(self.name) if self.kind is AskerKind.PERSON and self.name not in ERASED_NAMES else self.name,
            "area": address_area(self.address),
            "phone_last3": self.phone[-3:],
            **({"email": masked_email(self.email)} if self.email else {}),  # notify: masked like the phone
        }

    def full(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "address": self.address,
            "phone": self.phone,
            "name_shown": self.name_shown.value,
            **({"email": self.email} if self.email else {}),  # notify
        }
