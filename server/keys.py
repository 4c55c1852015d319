"""Typed application keys: everything the app holds lives here, nothing in module globals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
import socketio
from aiohttp import web

from moderation.accounts import Accounts
from moderation.blocks import SenderBlocks
from moderation.store import Store

from .config import Settings
from .security import CsrfTokens, ViewerIds

if TYPE_CHECKING:
    from .auth import StaffCsrf
    from .board_feed import BoardFeed
    from .intake import Intake
    from .media import Media
    from .moderator import StaffNamespace
    from .session_watch import SessionWatch

settings_key = web.AppKey("settings", Settings)
store_key = web.AppKey("store", Store)
sio_key = web.AppKey("sio", socketio.AsyncServer)
jinja_key = web.AppKey("jinja", jinja2.Environment)
viewer_ids_key = web.AppKey("viewer_ids", ViewerIds)
csrf_key = web.AppKey("csrf", CsrfTokens)
intake_key: web.AppKey[Intake] = web.AppKey("intake")
watch_key: web.AppKey[SessionWatch] = web.AppKey("session_watch")
accounts_key = web.AppKey("accounts", Accounts)
staff_csrf_key: web.AppKey[StaffCsrf] = web.AppKey("staff_csrf")
feed_key: web.AppKey[BoardFeed] = web.AppKey("board_feed")
media_key: web.AppKey[Media] = web.AppKey("media")
staff_namespaces_key: web.AppKey[list[StaffNamespace]] = web.AppKey("staff_namespaces")
blocks_key = web.AppKey("sender_blocks", SenderBlocks)
