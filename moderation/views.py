"""What each audience is sent about a question (CONTEXT.md §2, §9):

- staff (board, head, responders): the workflow fields and the asker *masked*; the full identity
  only through an audited reveal; a protected (complaint) asker is hidden from all but the head;
- the chair: the question as approved, the display name and the prepared answer as notes;
- the public and the overlay: `QuestionView.public_dict()` (never phone or address)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import workflow as wf
from .roles import Actor
from .sessions import Session

if TYPE_CHECKING:
    from .store import QuestionView


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def masked_asker(question: QuestionView, sees_protected: bool) -> dict[str, Any]:
    if question.asker is None or (question.protected and not sees_protected):
        return {"kind": question.asker_kind, "hidden": True}
    return {**question.asker.masked(), "hidden": False}


def staff_view(question: QuestionView, session: Session, viewer: Actor, *, flags: list[str],
               similar: list[tuple[int, float]]) -> dict[str, Any]:
    """A card for `viewer` (a signed-in user, or the role of a room the card is sent to): with the
    actions the state machine lets that viewer take now, so no console re-decides them."""
    recording_offset = None
    if question.aired_at is not None and session.live_at is not None:
        recording_offset = max(0, int((question.aired_at - session.live_at).total_seconds()))
    f = wf.facts(question, session)
    # A denouncer's identity is protected by law (Luật Tố cáo 2018, Điều 9): nothing that points to
    # the asker (display name, receipt, channel) reaches anyone but the head.
    hidden = question.protected and not viewer.sees_protected
    return {
        "id": question.id,
        "session_id": question.session_id,
        "number": question.number,
        "receipt": None if hidden else question.receipt,
        "version": question.version,
        "state": question.state.value,
        "text": question.shown_text,
        "original_text": question.text,
        "edited": question.display_text is not None,
        "field": question.field,
        "department": question.department,
        "answer": question.answer,
        "starred": question.starred,
        "late": f.late,
        "held": question.held,
        "queue_position": question.queue_position,
        "merged_into": question.merged_into,
        "merged_count": question.merged_count,
        "interest_count": question.interest_count,
        "received_at": question.received_at.isoformat(),
        "updated_at": _iso(question.updated_at),
        "aired_at": _iso(question.aired_at),
        "answered_at": _iso(question.answered_at),
        "recording_offset_s": recording_offset,  # where the live answer is in the recording
        "decline_reason": question.decline_reason,
        "decline_note": question.decline_note,
        "forward_due": _iso(question.forward_due),
        "protected": question.protected,
        "flags": flags,
        "similar": [{"id": qid, "score": round(score, 2)} for qid, score in similar],
        "public_name": None if hidden else question.public_name,
        "channel": None if hidden else question.channel,
        "confirmed_by": question.confirmed_by,
        "asker": masked_asker(question, viewer.sees_protected),
        # -- responder: the follow-up on the card (deadline, forwarding, the answer's way to the head)
        "due_on": _iso(question.due_on),
        "due_rule": question.due_rule,
        "due_done_at": _iso(question.due_done_at),
        "forwarded_to": question.forwarded_to,
        "answer_by": question.answer_by,
        "answer_submitted_at": _iso(question.answer_submitted_at),
        "answer_return_note": question.answer_return_note,
        "attachments": len(question.attachments),
        # -- end responder
        "actions": wf.allowed_actions(viewer, f),
        "withheld": wf.withheld_actions(viewer, f),
    }


def cue_view(question: QuestionView) -> dict[str, Any]:
    """The chair's screen: what to read and the department's notes; no identity but the display name."""
    return {
        "id": question.id,
        "number": question.number,
        "version": question.version,
        "text": question.shown_text,
        "field": question.field,
        "public_name": question.public_name,
        "asker_kind": question.asker_kind,
        "answer": question.answer,
        "aired_at": _iso(question.aired_at),
        "merged_count": question.merged_count,
        "interest_count": question.interest_count,
    }
