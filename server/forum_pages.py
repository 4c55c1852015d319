"""The standing forum's public pages: `/s/{id}` of a forum session (server/pages.py hands it here)
and `/forum`, the open forums. Like every public page they work without JavaScript: the question
form posts to `/s/{id}/questions` (the same path, intake and receipts as a session's), and the
search of the answers is a GET form read on the server."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from moderation.consent import CONSENT_TEXTS, CURRENT_CONSENT
from moderation.deadlines import RULE_SETS
from moderation.forum import ForumSearch, answered
from moderation.sessions import Session, SessionKind, SessionState

from .keys import store_key, watch_key

routes = web.RouteTableDef()
FORUM_RULES = RULE_SETS["hue_forum"]


async def forum_page(request: web.Request, session: Session, *, form: dict[str, str], errors: dict[str, str],
                     idempotency_key: str, status: int = 200) -> web.Response:
    from .pages import render  # pages.py hands a forum's requests here

    search = ForumSearch.parse(dict(request.query), list(session.fields))
    answers = await answered(request.app[store_key], session.id, search)
    return render(request, "forum.html", status=status, session=session, search=search, answers=answers,
                  stats=await request.app[watch_key].stats(session.id), form=form, errors=errors,
                  idempotency_key=idempotency_key, consent=CONSENT_TEXTS[CURRENT_CONSENT],
                  answer_days=FORUM_RULES.answer.days, answer_source=FORUM_RULES.source,
                  page_link=lambda page: _page_link(search, page))


def _page_link(search: ForumSearch, page: int) -> str:
    """Another page of the same search."""
    query = {k: v for k, v in (("field", search.field), ("q", search.words)) if v}
    return "?" + urlencode({**query, "page": page}) + "#answers"


@routes.get("/forum")
async def forums(request: web.Request) -> web.Response:
    from .pages import render

    found = [s for s in await request.app[store_key].list_sessions() if s.kind is SessionKind.FORUM and s.public]
    return render(request, "forums.html", open=[s for s in found if s.intake_open],
                  retired=[s for s in found if s.state in (SessionState.CLOSED, SessionState.PUBLISHED)])


def setup_forum(app: web.Application) -> None:
    app.add_routes(routes)
