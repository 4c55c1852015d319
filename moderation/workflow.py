"""The editorial board's actions on a question: which states each applies to, who may take it, and
what parameters it needs. Everything here is checked before the store writes anything
(moderation/board.py carries the actions out, inside one transaction with their audit entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Forbidden, InvalidTransition, ValidationError
from .questions import DeclineReason, QuestionState
from .roles import BOARD, HEADS, Actor, Role
from .text import clean_line, clean_text

S = QuestionState
SCREENED = frozenset({S.ACCEPTED, S.ROUTED, S.PREPARED})  # accepted and being prepared
NOT_MERGED = frozenset(S) - {S.MERGED}
MAX_TEXT = 2000
MAX_ANSWER = 10000


@dataclass(frozen=True)
class ActionSpec:
    sources: frozenset[QuestionState]
    roles: frozenset[Role]


ACTIONS: dict[str, ActionSpec] = {
    "accept": ActionSpec(frozenset({S.RECEIVED, S.DECLINED, S.FORWARDED}), BOARD),
    "decline": ActionSpec(frozenset({S.RECEIVED, S.QUEUED}) | SCREENED, BOARD),
    "edit": ActionSpec(NOT_MERGED, BOARD),
    "classify": ActionSpec(NOT_MERGED, BOARD),
    "route": ActionSpec(SCREENED, BOARD),
    "answer": ActionSpec(SCREENED | {S.QUEUED}, BOARD | {Role.RESPONDER}),
    "approve_answer": ActionSpec(frozenset({S.PREPARED}), HEADS),
    "merge": ActionSpec(frozenset({S.RECEIVED}) | SCREENED, BOARD),
    "star": ActionSpec(frozenset(S), BOARD),
    "queue": ActionSpec(SCREENED, BOARD),
    "unqueue": ActionSpec(frozenset({S.QUEUED}), BOARD),
    "reorder": ActionSpec(frozenset({S.QUEUED}), BOARD),
    "air": ActionSpec(SCREENED | {S.QUEUED}, BOARD),
    "done": ActionSpec(frozenset({S.ON_AIR}), BOARD | {Role.CHAIR}),
    "requeue": ActionSpec(frozenset({S.ON_AIR}), BOARD),
    "approve": ActionSpec(frozenset(S) - {S.RECEIVED, S.MERGED, S.DECLINED, S.FORWARDED}, HEADS),
}

SESSION_ACTIONS: dict[str, frozenset[Role]] = {
    "approve_script": HEADS,
    "announce": HEADS,
    "start": HEADS,
    "close": HEADS,
    "publish": HEADS,
}


def check_action(action: Any, actor: Actor, state: QuestionState, department: str | None) -> ActionSpec:
    """Who may, and from which state: raises before anything is written."""
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationError("bad_action", field="action", action=str(action)[:40])
    spec = ACTIONS[action]
    if actor.role not in spec.roles:
        raise Forbidden("forbidden_action", field="action", action=action, role=actor.role.value)
    if actor.role is Role.RESPONDER and (department is None or department != actor.department):
        raise Forbidden("forbidden_department", field="question_id")
    if state not in spec.sources:
        raise InvalidTransition("question_transition", field="action", action=action, current=state.value)
    return spec


def check_session_action(action: Any, actor: Actor) -> str:
    if not isinstance(action, str) or action not in SESSION_ACTIONS:
        raise ValidationError("bad_action", field="action", action=str(action)[:40])
    if actor.role not in SESSION_ACTIONS[action]:
        raise Forbidden("forbidden_action", field="action", action=action, role=actor.role.value)
    return action


FEEDS = ("test", "whip", "url")
PULL_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "srt", "http", "https", "file", "udp", "rtp")


def check_feed(feed: Any, url: Any) -> tuple[str | None, str | None]:
    """A programme feed staff may choose: test | whip | url (with its URL) | None (no video)."""
    if feed is None:
        return None, None
    if feed not in FEEDS:
        raise ValidationError("bad_feed", field="feed")
    if feed != "url":
        return feed, None
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("feed_url_required", field="url")
    url = url.strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in PULL_SCHEMES or len(url) > 2000:
        raise ValidationError("bad_feed_url", field="url", schemes=", ".join(PULL_SCHEMES))
    return feed, url


def parse_version(raw: Any) -> int:
    if raw is None:
        raise ValidationError("version_required", field="version")
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ValidationError("bad_choice", field="version")
    return raw


# -- parameters -------------------------------------------------------------------------------


def decline_reason(params: dict[str, Any]) -> DeclineReason:
    try:
        return DeclineReason(params.get("reason") or "")
    except ValueError:
        raise ValidationError("bad_decline_reason", field="reason") from None


def decline_note(params: dict[str, Any], reason: DeclineReason) -> str | None:
    """The reason in words for the asker. Required when a question within remit will not be
    answered: the regulation says the asker is told why (CONTEXT.md §7)."""
    raw = params.get("note")
    note = clean_text(raw) if isinstance(raw, str) else ""
    if len(note) > MAX_TEXT or (reason is DeclineReason.WILL_NOT_ANSWER and len(note) < 5):
        raise ValidationError("bad_decline_note", field="note", max=MAX_TEXT)
    return note or None


def edited_text(params: dict[str, Any]) -> str:
    raw = params.get("text")
    text = clean_text(raw) if isinstance(raw, str) else ""
    if not 0 < len(text) <= MAX_TEXT:
        raise ValidationError("bad_edit", field="text", max=MAX_TEXT)
    return text


def department(params: dict[str, Any]) -> str:
    raw = params.get("department")
    name = clean_line(raw) if isinstance(raw, str) else ""
    if not 0 < len(name) <= 200:
        raise ValidationError("bad_department", field="department")
    return name


def answer_text(params: dict[str, Any]) -> str:
    raw = params.get("answer")
    text = clean_text(raw) if isinstance(raw, str) else ""
    if not 0 < len(text) <= MAX_ANSWER:
        raise ValidationError("bad_answer", field="answer", max=MAX_ANSWER)
    return text


def field_of(params: dict[str, Any], session_fields: list[str]) -> str | None:
    raw = params.get("field")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or clean_line(raw) not in session_fields:
        raise ValidationError("bad_field", field="field")
    return clean_line(raw)


def flag(params: dict[str, Any], name: str) -> bool:
    raw = params.get(name)
    if not isinstance(raw, bool):
        raise ValidationError("bad_flag", field=name, name=name)
    return raw


def question_ref(params: dict[str, Any], name: str) -> int:
    raw = params.get(name)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ValidationError("bad_merge_target", field=name)
    return raw


def position(params: dict[str, Any]) -> int:
    raw = params.get("position")
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ValidationError("bad_position", field="position")
    return raw


def reveal_reason(raw: Any) -> str:
    reason = clean_line(raw) if isinstance(raw, str) else ""
    if not 5 <= len(reason) <= 300:
        raise ValidationError("reason_required", field="reason")
    return reason
