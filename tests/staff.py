"""Staff members' real Socket.IO clients (API-token auth) for the board's tests, and the `staff`
fixture that makes them (registered for every test module in conftest.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import socketio

from moderation.accounts import Accounts
from server.keys import accounts_key

from .conftest import RunningServer, valid_payload, wait_for

PASSWORD = "mật khẩu đủ dài 123"
PHONE = "0912345678"
ADDRESS_PART = "Lạch Tray"


class Staff:
    """A staff member's real Socket.IO client (API-token auth) that records what it is sent."""

    def __init__(self, client: socketio.AsyncClient, namespace: str, token: str) -> None:
        self.client = client
        self.namespace = namespace
        self.token = token
        self.events: list[tuple[str, Any]] = []
        self.questions: dict[int, dict[str, Any]] = {}
        self.cursor: str | None = None

    def record(self, event: str, data: Any) -> None:
        self.events.append((event, data))
        if event == "question":
            q = data["question"]
            if q["version"] >= self.questions.get(q["id"], {}).get("version", 0):
                self.questions[q["id"]] = q
            self.cursor = data["cursor"] or self.cursor
        elif event == "question_gone":
            self.questions.pop(data["id"], None)

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.call(event, data, namespace=self.namespace, timeout=10)
        return result

    async def join(self, session_id: int, since: str | None = None) -> dict[str, Any]:
        ack = await self.call("join", {"session_id": session_id, **({"since": since} if since else {})})
        assert ack["ok"], ack
        for q in ack.get("questions", []):
            self.record("question", {"question": q, "cursor": None})
        self.cursor = ack.get("cursor", self.cursor)
        return ack

    async def act(self, question_id: int, action: str, **params: Any) -> dict[str, Any]:
        version = self.questions[question_id]["version"]
        ack = await self.call("action", {"question_id": question_id, "action": action, "version": version, **params})
        if ack.get("ok"):
            self.record("question", {"question": ack["question"], "cursor": None})
            for other in ack["others"]:
                self.record("question", {"question": other, "cursor": None})
        return ack


@pytest.fixture
async def staff(server: RunningServer) -> AsyncIterator[Callable[..., Awaitable[Staff]]]:
    clients: list[socketio.AsyncClient] = []

    async def connect(name: str, role: str, *, namespace: str = "/moderator", department: str | None = None,
                      create: bool = True) -> Staff:
        accounts: Accounts = server.app[accounts_key]
        if create:
            await accounts.add_user(name, role, PASSWORD, department=department)
        token = (await accounts.issue_token(name))["token"]
        client = socketio.AsyncClient(reconnection=False)
        member = Staff(client, namespace, token)
        for event in ("question", "question_gone", "queue", "cue", "session", "interest"):
            client.on(event, lambda data, e=event: member.record(e, data), namespace=namespace)
        await client.connect(server.url, namespaces=[namespace], transports=["websocket"], auth={"token": token},
                             wait_timeout=5)
        clients.append(client)
        return member

    yield connect
    for client in clients:
        if client.connected:
            await client.disconnect()


async def submit(viewer: socketio.AsyncClient, session_id: int, **overrides: Any) -> dict[str, Any]:
    ack: dict[str, Any] = await viewer.call("submit_question", valid_payload(session_id, **overrides),
                                            namespace="/viewer", timeout=10)
    assert ack["ok"], ack
    return ack


async def until(predicate: Callable[[], bool]) -> None:
    await wait_for(predicate, timeout=5)


def no_identity(payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    assert PHONE not in text and ADDRESS_PART not in text, text
