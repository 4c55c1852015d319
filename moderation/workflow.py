"""The question's state machine, in one table: for every action of the editorial board, the states
it applies to, the roles that may take it, where it leads, and the guards (held, late, protected,
the session's close) that must hold. Everything here is checked before the store writes anything
(moderation/board.py carries the actions out, inside one transaction with their audit entry); the
console renders the actions this table allows (`allowed_actions`), and docs/moderation.md's table is
generated from it (`actions_markdown`, checked by a test)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import Forbidden, InvalidTransition, ValidationError
from .questions import DeclineReason, QuestionState
from .roles import BOARD, Actor, Role
from .sessions import SessionState
from .text import clean_line, clean_text

S = QuestionState
SCREENED = frozenset({S.ACCEPTED, S.ROUTED, S.PREPARED})  # accepted and being prepared
NOT_MERGED = frozenset(S) - {S.MERGED}
OVER = frozenset({SessionState.CLOSED, SessionState.PUBLISHED})
MAX_TEXT = 2000
MAX_ANSWER = 10000


@dataclass(frozen=True)
class Facts:
    """What the rules look at besides the state: read from the locked row (board.py) or from the
    view a console is sent (views.py), so both decide alike."""

    state: QuestionState
    held: bool  # accepted, but waiting for the head before the public sees it
    late: bool  # received after the head approved the script
    protected: bool  # a complaint or denunciation moved to the formal channel
    session: SessionState
    department: str | None
    answered: bool  # an answer is attached
    forwarded: bool = False  # outside the chair's remit and already sent on to the competent unit
    due: bool = False  # a follow-up deadline runs (set, not yet met)
    forum: bool = False  # the standing forum: no live hour, so nothing is queued or aired

    @property
    def session_over(self) -> bool:
        return self.session in OVER

    @property
    def needs_head(self) -> bool:
        """The head approves what the public will read of it: a late question (Điều 9), and after
        the close anything at all (Điều 10.2: the head's final review before publication)."""
        return self.late or self.session_over

    @property
    def answer_needs_head(self) -> bool:
        """A late question's answer is read on air, so the head approves it first; after the close an
        answer reaches the public only through the head's `approve_answer`."""
        return self.late and not self.session_over


def facts(question: Any, session: Any) -> Facts:
    """From a questions row and a sessions row, or a QuestionView and a Session."""
    approved: datetime | None = session.script_approved_at
    return Facts(state=S(question.state), held=bool(question.held),
                 late=approved is not None and question.received_at >= approved,
                 protected=bool(question.protected), session=SessionState(session.state),
                 department=question.department, answered=bool(question.answer),
                 forwarded=getattr(question, "forwarded_at", None) is not None,
                 due=getattr(question, "due_on", None) is not None and getattr(question, "due_done_at", None) is None,
                 forum=str(getattr(session, "kind", "dialogue")) == "forum")


# -- guards: each returns the reason it refuses (an i18n key), or None ----------------------------

Guard = Callable[[Facts, Actor], "str | None"]


def not_held(f: Facts, actor: Actor) -> str | None:
    return "held_needs_head" if f.held else None


def held(f: Facts, actor: Actor) -> str | None:
    return None if f.held else "not_held"


def answered(f: Facts, actor: Actor) -> str | None:
    return None if f.answered else "needs_answer"


def session_running(f: Facts, actor: Actor) -> str | None:
    return "question_session_over" if f.session_over else None


def live_hour(f: Facts, actor: Actor) -> str | None:
    return "forum_no_live" if f.forum else None


def not_forwarded(f: Facts, actor: Actor) -> str | None:
    return "already_forwarded" if f.forwarded else None


def due_running(f: Facts, actor: Actor) -> str | None:
    return None if f.due else "no_deadline"


def head_on_air(f: Facts, actor: Actor) -> str | None:
    """A change the head must approve cannot be made to what is on air: it would reach the screen first."""
    if f.state is S.ON_AIR and f.needs_head and actor.role is not Role.HEAD:
        return "on_air_needs_head"
    return None


GUARD_TEXT: dict[Guard, str] = {
    not_held: "not held",
    held: "held",
    answered: "has an answer",
    session_running: "session not closed",
    live_hour: "not a forum",
    head_on_air: "on air: head only if late or closed",
    not_forwarded: "not yet sent on",
    due_running: "a deadline runs",
}


@dataclass(frozen=True)
class Move:
    sources: frozenset[QuestionState]
    roles: frozenset[Role]
    to: str  # where it leads, in words (the docs' column)
    params: str = ""
    guards: tuple[Guard, ...] = ()
    # A change to what the public will read: taken by anyone but the head on a question whose
    # facts say it needs the head, it leaves the question held until the head approves.
    holds: Callable[[Facts], bool] | None = None


def text_needs_head(f: Facts) -> bool:
    return f.needs_head


def answer_needs_head(f: Facts) -> bool:
    return f.answer_needs_head


def closed_needs_head(f: Facts) -> bool:
    return f.session_over


HOLDS_TEXT: dict[Callable[[Facts], bool], str] = {
    text_needs_head: "holds if late or after the close (not for the head)",
    answer_needs_head: "holds if late, until the close (not for the head)",
    closed_needs_head: "holds after the close (not for the head)",
}


EDITORS = BOARD  # editor, head, admin
HEAD = frozenset({Role.HEAD})  # the head's approvals are the head's alone (Điều 9, 10.2)

ACTIONS: dict[str, Move] = {
    "accept": Move(frozenset({S.RECEIVED, S.DECLINED, S.FORWARDED}), EDITORS,
                   "accepted (public; held if late or after the close, unless the head accepts)",
                   holds=text_needs_head),
    "decline": Move(frozenset({S.RECEIVED, S.QUEUED}) | SCREENED, EDITORS,
                    "declined; `outside_chair_remit` → forwarded (due in 3 days); `complaint_or_denunciation` → "
                    "declined and protected for good (formal channel); `note` required for `will_not_answer`",
                    "`reason`, `note`"),
    "edit": Move(NOT_MERGED, EDITORS, "the text shown changes, the original is kept", "`text`",
                 (head_on_air,), holds=text_needs_head),
    "classify": Move(NOT_MERGED, EDITORS, "field", "`field` (one of the session's, or null)",
                     holds=closed_needs_head),
    "route": Move(SCREENED, EDITORS, "routed", "`department`"),
    "draft_answer": Move(frozenset({S.ACCEPTED, S.ROUTED}), EDITORS | {Role.RESPONDER},
                         "the answer saved as a draft, not submitted (state unchanged); responders: own department",
                         "`answer`"),
    "answer": Move(SCREENED | {S.QUEUED}, EDITORS | {Role.RESPONDER},
                   "prepared (queued stays queued), answer attached and submitted to the head; responders: own "
                   "department only", "`answer`",
                   holds=answer_needs_head),
    "approve_answer": Move(frozenset({S.PREPARED}), HEAD, "answered_in_writing (the answer is public; the "
                           "deadline met or missed on the record; the asker is told)",
                           guards=(answered,)),
    "return_answer": Move(frozenset({S.PREPARED}), HEAD, "back to routed (accepted without a department) with "
                          "the head's note; the draft is kept", "`note`", guards=(answered,)),
    "forward": Move(frozenset({S.FORWARDED}), EDITORS, "sent on to the competent unit (the forwarding deadline "
                    "met or missed on the record; the asker is told)", "`unit`", guards=(not_forwarded,)),
    "extend": Move(NOT_MERGED, HEAD, "the deadline moves to a later `due`; the asker is told the new date and "
                   "`note`", "`due` (ISO date), `note`", guards=(due_running,)),
    "merge": Move(frozenset({S.RECEIVED}) | SCREENED, EDITORS,
                  "merged into `into`; its askers and interest are counted there", "`into` (question id)"),
    "star": Move(frozenset(S), EDITORS, "starred flag", "`starred` (bool)"),
    "queue": Move(SCREENED, EDITORS, "queued (end of the queue)", guards=(live_hour, not_held, session_running)),
    "unqueue": Move(frozenset({S.QUEUED}), EDITORS, "back to accepted / routed / prepared"),
    "reorder": Move(frozenset({S.QUEUED}), EDITORS, "moves within the live queue", "`position` (0-based)"),
    "air": Move(SCREENED | {S.QUEUED}, EDITORS, "on_air (one at a time per session)",
                guards=(live_hour, not_held, session_running)),
    "done": Move(frozenset({S.ON_AIR}), EDITORS | {Role.CHAIR}, "answered_live (its time in the recording kept)"),
    "requeue": Move(frozenset({S.ON_AIR}), EDITORS, "queued, at the top", guards=(live_hour, session_running)),
    "approve": Move(frozenset(S) - {S.RECEIVED, S.MERGED, S.DECLINED, S.FORWARDED}, HEAD,
                    "no longer held: public", guards=(held,)),
}

# The session's own moves (the states are in moderation/sessions.py TRANSITIONS).
SESSION_ACTIONS: dict[str, frozenset[Role]] = {
    "approve_script": HEAD,
    "announce": frozenset({Role.ADMIN, Role.HEAD}),
    "start": frozenset({Role.ADMIN, Role.HEAD}),
    "close": frozenset({Role.ADMIN, Role.HEAD}),
    "publish": HEAD,  # the head's final review before anything is posted (Điều 10.2)
    # Hà Nam: the conclusions notice is issued; the units' 10 working days count from it
    "notice": frozenset({Role.ADMIN, Role.HEAD}),
}


def _refusal(action: str, move: Move, actor: Actor, f: Facts) -> Exception | None:
    if actor.role not in move.roles:
        return Forbidden("forbidden_action", field="action", action=action, role=actor.role.value)
    if actor.role is Role.RESPONDER and (f.department is None or f.department != actor.department):
        return Forbidden("forbidden_department", field="question_id")
    if f.protected:
        # moved to the formal channel: no action brings it back into the dialogue (CONTEXT.md)
        return InvalidTransition("protected_matter", field="action")
    if f.state not in move.sources:
        return InvalidTransition("question_transition", field="action", action=action, current=f.state.value)
    for guard in move.guards:
        reason = guard(f, actor)
        if reason is not None:
            return InvalidTransition(reason, field="action", action=action)
    return None


def check_action(action: Any, actor: Actor, f: Facts) -> Move:
    """Who may, from which state, under which guards: raises before anything is written."""
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationError("bad_action", field="action", action=clean_line(str(action))[:40])
    move = ACTIONS[action]
    refusal = _refusal(action, move, actor, f)
    if refusal is not None:
        raise refusal
    return move


def holds(move: Move, actor: Actor, f: Facts) -> bool:
    """Whether this change leaves the question waiting for the head."""
    return move.holds is not None and move.holds(f) and actor.role is not Role.HEAD


def may_reveal(actor: Actor, f: Facts) -> bool:
    """The asker's identity, for a stated reason: the board; a protected one, the head alone."""
    return actor.role in BOARD and (not f.protected or actor.sees_protected)


def allowed_actions(actor: Actor, f: Facts) -> list[str]:
    """What a console offers this viewer on this card (the server decides; the console renders)."""
    found = [a for a, move in ACTIONS.items() if _refusal(a, move, actor, f) is None]
    return [*found, "reveal"] if may_reveal(actor, f) else found


def role_actions(role: Role) -> list[str]:
    """Every action a role may ever take on a question (the console's keyboard help)."""
    found = [a for a, move in ACTIONS.items() if role in move.roles]
    return [*found, "reveal"] if role in BOARD else found


def session_actions(role: Role) -> list[str]:
    return [a for a, roles in SESSION_ACTIONS.items() if role in roles]


def withheld_actions(actor: Actor, f: Facts) -> dict[str, str]:
    """Actions this viewer could take from this state but a guard refuses now, with the reason,
    so the console can say why (e.g. a late question cannot go on air before the head approves)."""
    out: dict[str, str] = {}
    for action, move in ACTIONS.items():
        refusal = _refusal(action, move, actor, f)
        if isinstance(refusal, InvalidTransition) and refusal.reason not in ("question_transition", "protected_matter",
                                                                              "not_held", "no_deadline",
                                                                              "already_forwarded", "forum_no_live"):
            out[action] = refusal.reason
    return out


def check_session_action(action: Any, actor: Actor) -> str:
    if not isinstance(action, str) or action not in SESSION_ACTIONS:
        raise ValidationError("bad_action", field="action", action=clean_line(str(action))[:40])
    if actor.role not in SESSION_ACTIONS[action]:
        raise Forbidden("forbidden_action", field="action", action=action, role=actor.role.value)
    return action


def _roles(roles: frozenset[Role]) -> str:
    return ", ".join(r.value for r in Role if r in roles)


def _states(states: frozenset[QuestionState]) -> str:
    if states == frozenset(S):
        return "any"
    if states == NOT_MERGED:
        return "any but merged"
    return ", ".join(s.value for s in S if s in states)


def actions_markdown() -> str:
    """docs/moderation.md's actions table, written from ACTIONS (tests/test_workflow.py compares)."""
    lines = ["| action | params | from | guards | to / effect | roles |",
             "|---|---|---|---|---|---|"]
    for action, move in ACTIONS.items():
        guards = ", ".join(GUARD_TEXT[g] for g in move.guards)
        if move.holds is not None:
            guards = ", ".join(x for x in (guards, HOLDS_TEXT[move.holds]) if x)
        lines.append(f"| `{action}` | {move.params} | {_states(move.sources)} | {guards} | {move.to} | "
                     f"{_roles(move.roles)} |")
    lines.append("| *(every action)* | | | not protected | | |")
    lines.append("")
    lines.append("| session action | roles |")
    lines.append("|---|---|")
    lines.extend(f"| `{action}` | {_roles(roles)} |" for action, roles in SESSION_ACTIONS.items())
    return "\n".join(lines) + "\n"


FEEDS = ("test", "whip", "url")


def check_feed(feed: Any, url: Any) -> tuple[str | None, str | None]:
    """A programme feed staff may choose: test | whip | url (with its URL) | None (no video).

    A URL must be one of the network schemes a studio uses (never file://) with a host; where that
    host points is checked by stream.feed_policy.FeedPolicy when the feed is chosen (it resolves the
    name) and again by the media worker before every connection."""
    from stream.feed_policy import FeedPolicy, FeedRefused  # the rule lives beside the worker that applies it

    if feed is None:
        return None, None
    if feed not in FEEDS:
        raise ValidationError("bad_feed", field="feed")
    if feed != "url":
        return feed, None
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("feed_url_required", field="url")
    url = url.strip()
    if len(url) > 2000 or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValidationError("feed_url_host", field="url")
    try:
        FeedPolicy().host(url)
    except FeedRefused as refused:
        raise ValidationError(refused.reason, field="url", **refused.params) from None
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


def unit_name(params: dict[str, Any]) -> str:
    raw = params.get("unit")
    name = clean_line(raw) if isinstance(raw, str) else ""
    if not 2 <= len(name) <= 200:
        raise ValidationError("bad_unit", field="unit")
    return name


def return_note(params: dict[str, Any]) -> str:
    raw = params.get("note")
    note = clean_text(raw) if isinstance(raw, str) else ""
    if not 5 <= len(note) <= MAX_TEXT:
        raise ValidationError("bad_return_note", field="note", max=MAX_TEXT)
    return note


def extension(params: dict[str, Any], current: date | None) -> tuple[date, str]:
    """A later last day (ISO date) and the reason the asker is told."""
    raw = params.get("due")
    try:
        new = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        new = None
    if new is None or (current is not None and new <= current):
        raise ValidationError("bad_extension", field="due", current=current.isoformat() if current else "")
    note = params.get("note")
    text = clean_text(note) if isinstance(note, str) else ""
    if not 5 <= len(text) <= MAX_TEXT:
        raise ValidationError("bad_extension_note", field="note", max=MAX_TEXT)
    return new, text


def write_docs(path: str = "docs/moderation.md") -> None:
    """Rewrite the generated actions table in docs/moderation.md from ACTIONS."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text(encoding="utf-8")
    begin, end = text.index(DOCS_BEGIN), text.index(DOCS_END)
    head = text[: text.index("\n", begin) + 1]
    doc.write_text(head + actions_markdown() + text[end:], encoding="utf-8")


DOCS_BEGIN = "<!-- actions:begin"
DOCS_END = "<!-- actions:end -->"

if __name__ == "__main__":
    write_docs()
