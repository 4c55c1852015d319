"""A question as a viewer submits it: the public intake contract (docs/api.md), validated in one place
for the Socket.IO event, the JSON API and the HTML form alike."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from .asker import EMAIL_MAX, Asker, AskerKind, NameShown, normalize_email, normalize_phone
from .consent import CONSENT_TEXTS, CURRENT_CONSENT
from .errors import DomainError, Problems, TooLarge, ValidationError
from .text import clean_line, clean_text

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_NAME = 120
MAX_ADDRESS = 300
MAX_TEXT = 2000
MIN_TEXT = 10
MAX_ID = 2**63 - 1  # ids beyond this overflow the database's integer
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,80}$")


@dataclass(frozen=True)
class Submission:
    session_id: int
    idempotency_key: str
    asker: Asker
    field: str | None
    text: str
    consent_version: str
    channel: str
    # What it was sent with, as keyed hashes (moderation/blocks.py): stored with the asker, so a
    # moderator can block the sender later.
    viewer_hash: str | None = None
    address_hash: str | None = None
    # Set when the sender is blocked (moderation/blocks.py): the writer answers with it instead of
    # storing the question, unless the key is a resend of one already stored, which keeps its receipt.
    refusal: DomainError | None = None
    # Entered by an officer for a question received by phone, e-mail, letter or in person: the
    # register's "ký xác nhận của cán bộ tiếp nhận" (Điều 8.2), and whom the consent was given to.
    officer: str | None = None
    officer_role: str | None = None  # the officer's role, for the audit entry of the entry (officer intake)

    def __reduce__(self) -> tuple[Any, ...]:
        # Submissions cross to the writer process by the hundred per batch: plain strings pickle
        # in C, dataclasses and enums through Python (moderation/writer_process.py).
        a = self.asker
        return (_rebuild, (self.session_id, self.idempotency_key, a.kind.value, a.name, a.address, a.phone,
                           a.name_shown.value, self.field, self.text, self.consent_version, self.channel,
                           self.viewer_hash, self.address_hash, self.refusal, a.email, self.officer,
                           self.officer_role))

    @property
    def content_hash(self) -> str:
        """Fingerprint of what the asker sent, to tell a resend from a reused key."""
        a = self.asker
        parts: tuple[str, ...] = (a.kind.value, a.name, a.address, a.phone, self.field or "", self.text)
        if a.email:  # only when given, so the hashes of questions stored before e-mail existed still match
            parts += (a.email,)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# The enums by value, for a dict lookup where calling the enum class costs ~0.3 µs a call; anything
# not found (or unhashable) still goes through the class, so errors and edge cases stay the enum's.
_KINDS: dict[Any, AskerKind] = {m.value: m for m in AskerKind}
_SHOWN: dict[Any, NameShown] = {m.value: m for m in NameShown}
Choice = TypeVar("Choice", bound=Enum)


def _rebuild(session_id: int, key: str, kind: str, name: str, address: str, phone: str, name_shown: str,
             field: str | None, text: str, consent_version: str, channel: str, viewer_hash: str | None = None,
             address_hash: str | None = None, refusal: DomainError | None = None, email: str | None = None,
             officer: str | None = None, officer_role: str | None = None) -> Submission:
    asker = Asker(_KINDS[kind], name, address, phone, _SHOWN[name_shown], email)
    return Submission(session_id, key, asker, field, text, consent_version, channel, viewer_hash, address_hash,
                      refusal, officer, officer_role)


def _choice(members: dict[Any, Choice], enum: type[Choice], raw: Any, default: Choice, field: str,
            problems: Problems) -> Choice:
    """The member `raw` names: by dict lookup first (calling an enum class costs ~0.3 µs), then by the
    enum itself (a member given as such); else `bad_choice` on `field`, and `default`."""
    try:
        return members[raw]
    except (KeyError, TypeError):
        try:
            return enum(raw)
        except ValueError:
            problems.add("bad_choice", field)
            return default


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def check_size(payload: Any) -> None:
    if isinstance(payload, bytes):
        size = len(payload)
    elif _size_bound(payload, 0) <= MAX_PAYLOAD_BYTES:
        return  # certainly small enough: no need to encode it to know
    else:
        size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise TooLarge("too_large", limit=MAX_PAYLOAD_BYTES)


_UNKNOWN = MAX_PAYLOAD_BYTES + 1  # no cheap bound: measure exactly


def _size_bound(value: Any, depth: int) -> int:
    """At least the length of the payload's UTF-8 JSON: a character is at most 6 bytes there (a
    \\uXXXX escape; UTF-8 takes at most 4), and separators at most 2."""
    if isinstance(value, str):
        return 6 * len(value) + 2
    if isinstance(value, dict):
        if depth > 2:
            return _UNKNOWN
        total = 2
        for key, item in value.items():
            if not isinstance(key, str):
                return _UNKNOWN
            total += 6 * len(key) + 4 + _size_bound(item, depth + 1)
        return total
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int) and -MAX_ID <= value <= MAX_ID:
        return 20
    return _UNKNOWN  # lists, floats, big numbers: rare in a submission


def parse_session_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError("bad_session_id", field="session_id")
    try:
        session_id = int(value)
    except ValueError:
        raise ValidationError("bad_session_id", field="session_id") from None
    if not 0 < session_id <= MAX_ID:
        raise ValidationError("bad_session_id", field="session_id")
    return session_id


def parse_submission(payload: Any, *, channel: str, session_fields: list[str] | None = None,
                     viewer_hash: str | None = None, address_hash: str | None = None) -> Submission:
    """Validate and normalise; raise ValidationError naming the (first) field that is wrong,
    with every problem found in `params["all"]`. The hashes say who sent it (moderation/blocks.py)."""
    if not isinstance(payload, dict):
        raise ValidationError("not_an_object", field=None)
    check_size(payload)
    problems = Problems()
    session_id = parse_session_id(payload.get("session_id"))

    key = payload.get("idempotency_key")
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        problems.add("bad_idempotency_key", "idempotency_key")
        key = ""

    raw_asker = payload.get("asker")
    if not isinstance(raw_asker, dict):
        problems.add("required", "asker")
        raw_asker = {}
    kind = _choice(_KINDS, AskerKind, raw_asker.get("kind", "person"), AskerKind.PERSON, "asker.kind", problems)
    name_shown = _choice(_SHOWN, NameShown, raw_asker.get("name_shown") or NameShown.SHORT, NameShown.SHORT,
                         "asker.name_shown", problems)

    name = clean_line(_str(raw_asker.get("name")))
    address = clean_line(_str(raw_asker.get("address")))
    raw_phone = clean_line(_str(raw_asker.get("phone")))
    person = kind is AskerKind.PERSON
    if not name:
        problems.add("required_name_person" if person else "required_name_org", "asker.name")
    elif len(name) > MAX_NAME:
        problems.add("too_long", "asker.name", max=MAX_NAME)
    elif person and len(name.split()) < 2:
        problems.add("full_name", "asker.name")
    if not address:
        problems.add("required_address_person" if person else "required_address_org", "asker.address")
    elif len(address) > MAX_ADDRESS:
        problems.add("too_long", "asker.address", max=MAX_ADDRESS)
    phone = normalize_phone(raw_phone) if raw_phone else None
    if not raw_phone:
        problems.add("required_phone", "asker.phone")
    elif phone is None:
        problems.add("bad_phone", "asker.phone")
    # -- notify: the optional e-mail the asker is told of the follow-up at --
    raw_email = raw_asker.get("email")
    email: str | None = None
    if raw_email not in (None, ""):
        text_email = clean_line(_str(raw_email))
        if len(text_email) > EMAIL_MAX:
            problems.add("notify_email_too_long", "asker.email", max=EMAIL_MAX)
        elif (email := normalize_email(text_email)) is None:
            problems.add("notify_bad_email", "asker.email")
    # -- end notify --

    field_value = payload.get("field")
    field: str | None = None
    if field_value not in (None, ""):
        field = clean_line(_str(field_value))
        if session_fields is not None and field not in session_fields:
            problems.add("bad_field", "field")

    text = clean_text(_str(payload.get("text")))
    if not text:
        problems.add("required_text", "text")
    elif len(text) < MIN_TEXT:
        problems.add("too_short", "text", min=MIN_TEXT)
    elif len(text) > MAX_TEXT:
        problems.add("too_long", "text", max=MAX_TEXT)

    consent = payload.get("consent")
    consent_version = CURRENT_CONSENT
    if isinstance(consent, dict):
        consent_version = _str(consent.get("version")) or CURRENT_CONSENT
        accepted = consent.get("accepted") is True
    else:
        accepted = consent is True
    if not accepted:
        problems.add("consent_required", "consent")
    elif consent_version not in CONSENT_TEXTS:
        problems.add("bad_consent_version", "consent")

    problems.raise_if_any()
    return Submission(
        session_id=session_id,
        idempotency_key=key,
        asker=Asker(kind=kind, name=name, address=address, phone=phone or "", name_shown=name_shown, email=email),
        field=field,
        text=text,
        consent_version=consent_version,
        channel=channel,
        viewer_hash=viewer_hash,
        address_hash=address_hash,
    )
