"""A dialogue session and its life: draft → announced → live → closed → published.

Transitions are checked before anything is written (like aiortc's signalling states), and the
preparation deadlines of the Hải Phòng rules (Điều 5–10) are derived from the start time."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import Forbidden, InvalidTransition, Problems, ValidationError
from .roles import Role

MIN_MINUTES = 90
MAX_MINUTES = 120
DEFAULT_FIELDS = (
    "Đất đai",
    "Xây dựng - đô thị",
    "Giao thông",
    "Môi trường",
    "Đầu tư - doanh nghiệp",
    "Thuế - tài chính",
    "Giáo dục",
    "Y tế",
    "Lao động - việc làm",
    "Thủ tục hành chính",
    "Khác",
)


class SessionState(enum.StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    LIVE = "live"
    CLOSED = "closed"
    PUBLISHED = "published"


# -- forum: the kind of a session and the rules it follows (issue 13) ------------------------------
class SessionKind(enum.StrEnum):
    DIALOGUE = "dialogue"  # a live session of 90 to 120 minutes that closes
    FORUM = "forum"  # the standing "Trao đổi và tháo gỡ" (Huế, seed 000): no live hour, no video, no close


# The rule sets each kind may follow (moderation/deadlines.py RULE_SETS); the first is its default.
KIND_RULE_SETS: dict[SessionKind, tuple[str, ...]] = {
    SessionKind.DIALOGUE: ("hai_phong", "ha_nam"),
    SessionKind.FORUM: ("hue_forum",),
}
# A forum has no start time and no length: `starts_at` holds the day it opens to questions (the
# creation time unless given) and `minutes` is 0. It never goes live, and only an administrator
# closes it, to retire it (intake stops; the questions received keep their clocks).
FORUM_MINUTES = 0
# -- end forum --


# state -> the states it may move to
TRANSITIONS: dict[SessionState, tuple[SessionState, ...]] = {
    SessionState.DRAFT: (SessionState.ANNOUNCED,),
    SessionState.ANNOUNCED: (SessionState.LIVE, SessionState.CLOSED),
    SessionState.LIVE: (SessionState.CLOSED,),
    SessionState.CLOSED: (SessionState.PUBLISHED,),
    SessionState.PUBLISHED: (),
}

# Question intake opens with the announcement and closes only when the session ends (Điều 5).
INTAKE_OPEN = frozenset({SessionState.ANNOUNCED, SessionState.LIVE})


def check_transition(current: SessionState, target: SessionState, kind: SessionKind = SessionKind.DIALOGUE,
                     role: Role | None = None) -> None:
    if kind is SessionKind.FORUM:  # forum: no live hour; closing it retires it, an administrator's act
        if target is SessionState.LIVE:
            raise InvalidTransition("forum_no_live", field="action")
        if target is SessionState.CLOSED and role is not None and role is not Role.ADMIN:
            raise Forbidden("forum_retire_admin", field="action", role=role.value)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition("session_transition", field="state", current=current.value, target=target.value)


@dataclass(frozen=True)
class Deadline:
    key: str  # i18n key
    days_before: int
    due: datetime


# (key, days before the session) from Điều 5–9 of the Hải Phòng rules.
PREPARATION = (
    ("deadline_plan", 15),
    ("deadline_announce", 14),
    ("deadline_route", 7),
    ("deadline_answers", 3),
    ("deadline_script", 2),
)


@dataclass
class Session:
    id: int
    title: str
    chair_name: str
    chair_position: str
    place: str
    starts_at: datetime
    minutes: int
    fields: list[str]
    state: SessionState
    description: str = ""
    created_at: datetime | None = None
    announced_at: datetime | None = None
    live_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    script_approved_at: datetime | None = None
    script_approved_by: str | None = None
    feed: str | None = None  # test | whip | url (docs/video.md)
    feed_url: str | None = None
    kind: SessionKind = SessionKind.DIALOGUE
    rule_set: str = "hai_phong"  # moderation/deadlines.py RULE_SETS

    @property
    def is_forum(self) -> bool:
        return self.kind is SessionKind.FORUM

    def is_late(self, received_at: datetime) -> bool:
        """Received after the head approved the script (kịch bản): a late question."""
        return self.script_approved_at is not None and received_at >= self.script_approved_at

    @property
    def public(self) -> bool:
        """Drafts are seen by staff only: to everyone else they do not exist."""
        return self.state is not SessionState.DRAFT

    @property
    def intake_open(self) -> bool:
        return self.state in INTAKE_OPEN

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    def deadlines(self) -> list[Deadline]:
        if self.is_forum:
            return []  # no session day to prepare for: each question has its own clock
        return [Deadline(key, days, self.starts_at - timedelta(days=days)) for key, days in PREPARATION]

    def public_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "chair": {"name": self.chair_name, "position": self.chair_position},
            "place": self.place,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": None if self.is_forum else self.ends_at.isoformat(),
            "minutes": self.minutes,
            "kind": self.kind.value,
            "fields": list(self.fields),
            "state": self.state.value,
            "intake_open": self.intake_open,
        }

    def staff_dict(self) -> dict[str, object]:
        data = self.public_dict()
        data["deadlines"] = [
            {"key": d.key, "days_before": d.days_before, "due": d.due.isoformat()} for d in self.deadlines()
        ]
        data["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        data["live_at"] = self.live_at.isoformat() if self.live_at else None
        data["script_approved_at"] = self.script_approved_at.isoformat() if self.script_approved_at else None
        data["script_approved_by"] = self.script_approved_by
        data["rule_set"] = self.rule_set
        return data


@dataclass
class SessionDraft:
    """What staff give to create a session; validated before it reaches the store."""

    title: str
    chair_name: str
    starts_at: datetime | None  # a forum: the day it opens (default: now)
    minutes: int | None  # a forum: none (stored as FORUM_MINUTES)
    chair_position: str = ""
    place: str = ""
    description: str = ""
    fields: list[str] = field(default_factory=lambda: list(DEFAULT_FIELDS))
    kind: str = SessionKind.DIALOGUE.value
    rule_set: str | None = None  # None: the kind's default

    def validate(self) -> None:
        from .text import clean_line

        problems = Problems()
        self.title = clean_line(self.title)
        self.chair_name = clean_line(self.chair_name)
        self.chair_position = clean_line(self.chair_position)
        self.place = clean_line(self.place)
        if not self.title:
            problems.add("required", "title")
        if not self.chair_name:
            problems.add("required", "chair")
        self._validate_kind(problems)
        if self.starts_at is not None and self.starts_at.tzinfo is None:
            problems.add("start_needs_timezone", "start")
        cleaned = [clean_line(f) for f in self.fields]
        self.fields = list(dict.fromkeys(f for f in cleaned if f))
        if not self.fields:
            problems.add("required", "fields")
        problems.raise_if_any()

    def _validate_kind(self, problems: Problems) -> None:
        """The kind, its rule set, and the start and length a dialogue needs and a forum has not."""
        try:
            kind = SessionKind(self.kind)
        except ValueError:
            problems.add("forum_bad_kind", "kind", choices=", ".join(k.value for k in SessionKind))
            return
        allowed = KIND_RULE_SETS[kind]
        self.rule_set = self.rule_set or allowed[0]
        if self.rule_set not in allowed:
            problems.add("forum_bad_rule_set", "rule_set", kind=kind.value, choices=", ".join(allowed))
        if kind is SessionKind.FORUM:
            if self.minutes not in (None, FORUM_MINUTES):
                problems.add("forum_no_minutes", "minutes")
            self.minutes = FORUM_MINUTES
            self.starts_at = self.starts_at or datetime.now(UTC).replace(microsecond=0)
            return
        if self.starts_at is None:
            problems.add("required", "start")
        if self.minutes is None:
            problems.add("required", "minutes")
        elif not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            problems.add("minutes_range", "minutes", min=MIN_MINUTES, max=MAX_MINUTES, got=self.minutes)


def parse_draft(body: Any) -> SessionDraft:
    """A draft from a JSON body (the staff API, `POST /api/v1/sessions`): each value's type is checked
    here, each problem naming its field; `SessionDraft.validate` (in the store) checks the rest."""
    if not isinstance(body, dict):
        raise ValidationError("not_an_object", field=None)
    problems = Problems()

    def draft_text(key: str) -> str:
        value = body.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            problems.add("bad_choice", key)
            return ""
        return value

    starts_at = None
    raw_start = body.get("start")
    if raw_start is not None:
        try:
            starts_at = datetime.fromisoformat(raw_start) if isinstance(raw_start, str) else None
        except ValueError:
            pass
        if starts_at is None:
            problems.add("bad_start", "start")
    minutes = body.get("minutes")
    if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool)):
        problems.add("bad_choice", "minutes")
        minutes = None
    fields = body.get("fields")
    if fields is None:
        fields = list(DEFAULT_FIELDS)
    elif not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        problems.add("bad_choice", "fields")
        fields = []
    draft = SessionDraft(title=draft_text("title"), chair_name=draft_text("chair"), starts_at=starts_at, minutes=minutes,
                         chair_position=draft_text("chair_position"), place=draft_text("place"),
                         description=draft_text("description"), fields=fields,
                         kind=draft_text("kind") or SessionKind.DIALOGUE.value, rule_set=draft_text("rule_set") or None)
    problems.raise_if_any()
    return draft
