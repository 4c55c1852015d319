"""The messages per kind: the receipt page's line, the SMS and the mail, from the words in
server/texts/notify.py (NOTICES).

Askers get Vietnamese by e-mail and SMS (the receipt page shows the page's language). A message names
the question by its number and the session, carries the receipt link, and nothing personal: not the
asker's name, phone or address, nor the question's text (it may reveal an opinion); the params hold
dates, units and the board's reason, never personal data (moderation/outbox.py).

An SMS is kept to two parts: 2 x 153 GSM-7 characters, or 2 x 67 UCS-2 units when any character is
outside GSM-7 (Vietnamese letters with diacritics are). A text that does not fit with its diacritics
is sent without them (as Vietnamese SMS often is), and a long unit or note is shortened last."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from server.texts.notify import NOTICES

LANGS = ("vi", "en")
ASKER_KINDS = ("will_forward", "forwarded", "outside_remit", "will_not_answer", "follow_up",
               "answered_in_writing", "extended")
DEPARTMENT_KINDS = ("routed", "reminder", "overdue")
MAX_SMS_PARTS = 2

# GSM 03.38: the basic set (one septet each) and the extension table (two: escape + char).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def text(key: str, lang: str, **params: Any) -> str:
    pair = NOTICES[key]
    template = pair[LANGS.index(lang) if lang in LANGS else 0]
    return " ".join(template.format_map(_Params(params)).split())  # an empty {note} leaves no double space


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def sms_units(message: str) -> tuple[str, int]:
    """("gsm", septets) when GSM-7 can carry it, else ("ucs2", UTF-16 code units)."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in message):
        return "gsm", sum(2 if ch in GSM_EXTENSION else 1 for ch in message)
    return "ucs2", len(message.encode("utf-16-le")) // 2


def sms_parts(message: str) -> int:
    """How many SMS the gateway sends it as (a concatenated SMS gives 7 septets or 3 units per part
    to its header: 153 GSM-7 characters or 67 UCS-2 units a part; one alone takes 160 or 70)."""
    encoding, units = sms_units(message)
    single, part = (160, 153) if encoding == "gsm" else (70, 67)
    if units <= single:
        return 1
    return -(-units // part)


def without_diacritics(message: str) -> str:
    """"Câu hỏi số 12 đã được chuyển" -> "Cau hoi so 12 da duoc chuyen" (đ/Đ have no decomposition)."""
    decomposed = unicodedata.normalize("NFD", message.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def date_words(raw: Any) -> str:
    """An ISO date as Vietnamese write it, dd/mm/yyyy; anything else as it is."""
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return str(raw) if raw else ""


def _fields(params: dict[str, Any]) -> dict[str, str]:
    return {
        "number": str(params.get("number") or ""),
        "session": str(params.get("session_title") or ""),
        "due": date_words(params.get("due")),
        "unit": str(params.get("unit") or params.get("department") or ""),
        "note": _sentence(str(params.get("note") or "")),
        "receipt": str(params.get("receipt") or ""),
        "merged_into": str(params.get("merged_into") or ""),
    }


def _sentence(note: str) -> str:
    """The board's note as a sentence, so what follows it (the link) does not run on."""
    note = " ".join(note.split())
    return note if not note or note[-1] in ".!?…" else note + "."


def receipt_link(public_url: str, receipt: str) -> str:
    return f"{public_url.rstrip('/')}/q/{receipt}" if public_url and receipt else ""


def staff_link(public_url: str, department: str) -> str:
    """Where a department answers: its list with the deadlines (/staff/answers; a responder signed in
    sees their own department's whatever the query says)."""
    if not public_url:
        return ""
    return f"{public_url.rstrip('/')}/staff/answers" + (f"?department={quote(department)}" if department else "")


def _line_key(kind: str, params: dict[str, Any]) -> str:
    """The words for `kind` as its params allow: a forwarding decided while the session runs has no
    date yet (the 3 days count from the close); Hà Nam's first step is the conclusions notice."""
    if kind == "will_forward" and not params.get("due"):
        return "line_will_forward_after_close"
    if kind == "follow_up" and str(params.get("rule") or "").endswith(".notice"):
        return "line_follow_up_notice"
    if kind == "answered_in_writing" and params.get("merged_into"):
        return "line_answered_in_writing_merged"
    return f"line_{kind}"


def line(kind: str, params: dict[str, Any], lang: str = "vi") -> str:
    """The asker's message in one line: what the receipt page lists."""
    return text(_line_key(kind, params), lang, **_fields(params))


def sms(kind: str, params: dict[str, Any], public_url: str, lang: str = "vi") -> str:
    """The SMS to the asker: the line and the receipt link, in at most two parts."""
    fields = _fields(params)
    link = receipt_link(public_url, fields["receipt"])
    tail = text("sms_link", lang, link=link) if link else text("sms_code", lang, receipt=fields["receipt"])

    def build(f: dict[str, str], fold: bool) -> str:
        out = f"{text(_line_key(kind, params), lang, **f)} {tail}"
        return without_diacritics(out) if fold else out

    for fold in (False, True):
        candidate = build(fields, fold)
        if sms_parts(candidate) <= MAX_SMS_PARTS:
            return candidate
    # still too long without diacritics: shorten the free parts (the board's note, then the unit)
    shortened = dict(fields)
    for key in ("note", "unit"):
        while shortened[key] and sms_parts(build(shortened, True)) > MAX_SMS_PARTS:
            words = shortened[key].rstrip(".…").split()
            shortened[key] = " ".join(words[:-1]) + "..." if len(words) > 1 else ""
        if sms_parts(build(shortened, True)) <= MAX_SMS_PARTS:
            break
    return build(shortened, True)


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def asker_mail(kind: str, params: dict[str, Any], public_url: str, lang: str = "vi") -> Mail:
    f = _fields(params)
    link = receipt_link(public_url, f["receipt"])
    body = "\n\n".join([
        text("mail_greeting", lang),
        text("mail_about", lang, **f),
        text(_line_key(kind, params), lang, **f),
        text("mail_see", lang, link=link) if link else text("mail_see_code", lang, receipt=f["receipt"]),
        "-- \n" + text("mail_footer", lang),
    ])
    return Mail(text("mail_subject", lang, **f), body + "\n")


def department_mail(kind: str, params: dict[str, Any], public_url: str, lang: str = "vi") -> Mail:
    f = _fields(params)
    if not f["due"]:
        f["due"] = text("dept_no_due", lang)
    link = staff_link(public_url, f["unit"])
    parts = [text(f"dept_line_{kind}", lang, **f)]
    if link:
        parts.append(text("dept_see", lang, link=link))
    parts.append("-- \n" + text("dept_footer", lang))
    return Mail(text(f"dept_subject_{kind}", lang, **f), "\n\n".join(parts) + "\n")


def message_id(dedupe: str, mail_from: str) -> str:
    """The same notification, the same Message-ID: a resend after a crash (or after a 250 that never
    arrived) is recognisable as the same message by the receiving side and by a test counting them."""
    domain = mail_from.rsplit("@", 1)[-1].strip(" >") if "@" in mail_from else "doithoai.invalid"
    return f"<notify.{hashlib.sha256(dedupe.encode()).hexdigest()[:40]}@{domain}>"
