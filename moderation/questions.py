"""A question's states. Intake creates questions in `received`; nothing is public until a
moderator accepts it. The moves between states are in moderation/workflow.py."""

from __future__ import annotations

import enum


class QuestionState(enum.StrEnum):
    RECEIVED = "received"  # mới nhận, not public (pre-moderation)
    ACCEPTED = "accepted"  # đã duyệt, public
    ROUTED = "routed"  # chuyển sở, ngành
    PREPARED = "prepared"  # answer prepared by the department
    QUEUED = "queued"  # in the live queue
    ON_AIR = "on_air"
    ANSWERED_LIVE = "answered_live"
    ANSWERED_IN_WRITING = "answered_in_writing"
    DECLINED = "declined"
    FORWARDED = "forwarded"  # outside the chair's remit, sent to the competent unit
    MERGED = "merged"  # folded into a representative question


PUBLIC_STATES = frozenset(
    {
        QuestionState.ACCEPTED,
        QuestionState.ROUTED,
        QuestionState.PREPARED,
        QuestionState.QUEUED,
        QuestionState.ON_AIR,
        QuestionState.ANSWERED_LIVE,
        QuestionState.ANSWERED_IN_WRITING,
    }
)


class DeclineReason(enum.StrEnum):
    """The regulation's cases (Hải Phòng Điều 10.4 / CONTEXT.md §7) plus the exclusions of Điều 1.2."""

    OUTSIDE_CHAIR_REMIT = "outside_chair_remit"  # forward to the competent unit within 3 days
    OUTSIDE_CITY_REMIT = "outside_city_remit"  # tell the asker at once
    WILL_NOT_ANSWER = "will_not_answer"  # within remit; the reason is told at once
    COMPLAINT_OR_DENUNCIATION = "complaint_or_denunciation"  # formal channel, identity protected
    DUPLICATE = "duplicate"
    ABUSIVE = "abusive"


def is_public(state: QuestionState, held: bool) -> bool:
    """Public once a moderator accepted it, unless it is a late question awaiting the head."""
    return state in PUBLIC_STATES and not held
