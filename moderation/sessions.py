"""A dialogue session and its life: draft → announced → live → closed → published.

Transitions are checked before anything is written (like aiortc's signalling states), and the
preparation deadlines of the Hải Phòng rules (Điều 5–10) are derived from the start time."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import InvalidTransition, Problems

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


def check_transition(current: SessionState, target: SessionState) -> None:
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
        return [Deadline(key, days, self.starts_at - timedelta(days=days)) for key, days in PREPARATION]

    def public_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "chair": {"name": self.chair_name, "position": self.chair_position},
            "place": self.place,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "minutes": self.minutes,
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
        return data


@dataclass
class SessionDraft:
    """What staff give to create a session; validated before it reaches the store."""

    title: str
    chair_name: str
    starts_at: datetime
    minutes: int
    chair_position: str = ""
    place: str = ""
    description: str = ""
    fields: list[str] = field(default_factory=lambda: list(DEFAULT_FIELDS))

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
        if self.starts_at.tzinfo is None:
            problems.add("start_needs_timezone", "start")
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            problems.add("minutes_range", "minutes", min=MIN_MINUTES, max=MAX_MINUTES, got=self.minutes)
        cleaned = [clean_line(f) for f in self.fields]
        self.fields = list(dict.fromkeys(f for f in cleaned if f))
        if not self.fields:
            problems.add("required", "fields")
        problems.raise_if_any()
