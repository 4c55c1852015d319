"""Questions received by phone, e-mail, letter or in person, entered by an officer of the editorial
board on the asker's behalf (Hải Phòng Điều 8.1-8.2: every question goes into the register with the
receiving officer's confirmation).

The one rule for every surface (the JSON API, the staff page): who may enter one (a member of the
board: editor, head, admin; not the chair, not a responder) and through which channel. What is
entered is then exactly a viewer's submission (moderation/submission.py parse_submission: the same
validation, the same idempotency key and receipt, the same register), with the officer recorded on
the question (`questions.entered_by`), on the consent (`consent_records.officer`: the asker consented
to that officer) and in the audit log (`question_entered`, moderation/intake.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .errors import Forbidden, Problems, Unauthorized, ValidationError
from .roles import BOARD, Actor
from .submission import Submission, parse_submission

PHONE = "phone"
EMAIL = "email"
LETTER = "letter"
IN_PERSON = "in_person"
# The channels an officer records, in the order the staff page offers them.
OFFICER_CHANNELS: tuple[str, ...] = (PHONE, EMAIL, LETTER, IN_PERSON)


def claims_channel(payload: Any) -> bool:
    """The payload names the channel it was received through: an officer's entry."""
    return isinstance(payload, dict) and payload.get("channel") is not None


def refuse_viewer_channel(payload: Any) -> None:
    """A question sent by a viewer (no officer) that names a channel is refused, on every surface,
    not quietly taken as a web question: only an officer says how a question reached the board."""
    if claims_channel(payload):
        raise Unauthorized("oi_sign_in", field="channel")


def check_officer(actor: Actor) -> None:
    """Forbidden unless `actor` is on the board: checked before anything is parsed or written."""
    if actor.role not in BOARD:
        raise Forbidden("oi_board_only", field="channel", role=actor.role.value)


def parse_entry(payload: Any, actor: Actor, channel: str, *, session_fields: list[str] | None = None) -> Submission:
    """A question `actor` entered, received through `channel`: the board only, one of
    OFFICER_CHANNELS, and then a viewer's submission exactly (parse_submission), with every problem
    found (the channel's first) in one ValidationError. The officer is its receiving officer and the
    one the asker gave their consent to. No viewer cookie or client address is kept: those would be
    the office's, not the asker's (a sender block by the asker's phone still applies)."""
    check_officer(actor)
    problems = Problems()
    if not channel:
        problems.add("oi_channel_required", "channel")
    elif channel not in OFFICER_CHANNELS:
        problems.add("oi_bad_channel", "channel")
    try:
        submission = parse_submission(payload, channel=channel, session_fields=session_fields)
    except ValidationError as err:
        if not problems.items:
            raise
        problems.items += err.params.get("all") or [err]
    problems.raise_if_any()
    return replace(submission, officer=actor.name, officer_role=actor.role.value, viewer_hash=None,
                   address_hash=None)
