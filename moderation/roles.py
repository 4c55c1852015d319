"""Who does what: the staff roles of the regulation, and the actor behind every change.

Each role sees only what it needs (CONTEXT.md §2): the chair and the overlay never receive an
asker's phone or address; responders (sở, ngành) see only what was routed to them; only the head
sees the identity of someone whose complaint was moved to the formal channel."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"  # thành viên Ban Biên tập
    HEAD = "head"  # Trưởng Ban Biên tập
    CHAIR = "chair"  # người chủ trì
    RESPONDER = "responder"  # sở, ngành


ROLES = tuple(r.value for r in Role)
BOARD = frozenset({Role.ADMIN, Role.HEAD, Role.EDITOR})  # the editorial board's console
HEADS = frozenset({Role.ADMIN, Role.HEAD})
MODERATOR_NAMESPACE = BOARD | {Role.RESPONDER}
CHAIR_NAMESPACE = BOARD | {Role.CHAIR}


@dataclass(frozen=True)
class Actor:
    """A signed-in user, an API token's owner, or the command line (user_id None)."""

    name: str
    role: Role
    user_id: int | None = None
    department: str | None = None

    @property
    def sees_protected(self) -> bool:
        return self.role is Role.HEAD

    def public(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role.value, "department": self.department}


CLI_ACTOR = Actor("cli", Role.ADMIN)
