"""The standing forum "Trao đổi và tháo gỡ" (Huế, QĐ 1834/2013, seed 000): what its public page reads.

A forum is a session of kind `forum` (moderation/sessions.py): questions arrive any day through the
same intake, the board screens, routes and answers them through the same actions, and each one is
due 5 working days after its receipt (moderation/deadlines.py `hue_forum`, set by
moderation/followup.py when it is accepted). The public page lists what the head approved: the
questions answered in writing, with their answers, searchable by field and by words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import false, select

from . import attachments
from . import schema as s
from .questions import QuestionState
from .text import clean_line, fold

if TYPE_CHECKING:
    from .store import QuestionView, Store

PAGE_SIZE = 20
MAX_WORDS = 200  # a search longer than this is cut (it is folded and matched in memory)


@dataclass(frozen=True)
class ForumSearch:
    """A search of a forum's answers, from the page's query string; anything unusable is dropped."""

    field: str | None = None  # one of the forum's fields
    words: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: dict[str, str], fields: list[str]) -> ForumSearch:
        field = clean_line(query.get("field", ""))
        words = clean_line(query.get("q", ""))[:MAX_WORDS]
        raw_page = query.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 7 else 1
        return cls(field if field in fields else None, words, max(page, 1))

    @property
    def active(self) -> bool:
        return self.field is not None or bool(self.words)

    def matches(self, question: QuestionView) -> bool:
        if self.field is not None and question.field != self.field:
            return False
        if not self.words:
            return True
        haystack = fold(" ".join(filter(None, (question.shown_text, question.answer, question.field))))
        # every word must appear somewhere (diacritics ignored: "dat dai" finds "đất đai")
        return all(word in haystack for word in fold(self.words).split())


@dataclass(frozen=True)
class ForumAnswers:
    questions: list[QuestionView]  # this page's
    found: int  # how many match
    total: int  # how many are answered in all
    page: int
    pages: int


async def answered(store: Store, session_id: int, search: ForumSearch) -> ForumAnswers:
    """The questions the head approved an answer for (`answered_in_writing`, not held), newest
    answer first, filtered by `search`. No identity is read: the public page shows the name as
    the asker chose it shown, and never a phone or an address."""
    from .store import _question

    async with store.read_engine.connect() as conn:
        rows = await conn.execute(
            select(s.questions)
            .where(s.questions.c.session_id == session_id)
            .where(s.questions.c.state == QuestionState.ANSWERED_IN_WRITING.value)
            .where(s.questions.c.held == false())
            .order_by(s.questions.c.answered_at.desc(), s.questions.c.id.desc())
        )
        every = [_question(r) for r in rows]
        picked = [q for q in every if search.matches(q)]
        pages = max(1, -(-len(picked) // PAGE_SIZE))
        page = min(search.page, pages)
        shown = await attachments.load(conn, picked[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])  # the answers' files
    return ForumAnswers(shown, len(picked), len(every), page, pages)
