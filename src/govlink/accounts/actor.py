"""Who is making a request, as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from govlink.accounts.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user (through a browser session or an API token) or an anonymous visitor."""

    user_id: int | None
    username: str
    roles: frozenset[Role] = frozenset()
    department_id: int | None = None
    via: Literal["session", "token", "anonymous", "system"] = "anonymous"
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: int | None = None
    subject_key: str | None = None  # the person or enterprise a public account speaks for

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


ANONYMOUS = Actor(user_id=None, username="anonymous")
SYSTEM = Actor(user_id=None, username="system", roles=frozenset({Role.ADMIN}), via="system")
