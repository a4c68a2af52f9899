"""Who may do what: roles, permissions, and a token's scope of locations and channels (分权管理)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    AGENT = "agent"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ = "read"
    CATALOGUE_WRITE = "catalogue:write"
    STOCK_WRITE = "stock:write"
    ORDERS_WRITE = "orders:write"
    CASES_WRITE = "cases:write"
    CONFIG_WRITE = "config:write"  # locations, channels, notifiers, tokens


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.READ, Permission.CATALOGUE_WRITE, Permission.STOCK_WRITE,
                              Permission.ORDERS_WRITE, Permission.CASES_WRITE}),
    Role.AGENT: frozenset({Permission.READ, Permission.CASES_WRITE}),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: a token (or a CLI user) with a role and an optional scope. An empty scope means all."""

    name: str
    role: Role
    locations: frozenset[str] | None = None
    channels: frozenset[str] | None = None

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    @property
    def scoped(self) -> bool:
        return self.locations is not None or self.channels is not None

    def sees_location(self, code: str) -> bool:
        return self.locations is None or code in self.locations

    def sees_channel(self, code: str) -> bool:
        return self.channels is None or code in self.channels

    def sees_order(self, channel: str, locations: Iterable[str]) -> bool:
        """A scoped caller sees an order of one of its channels, or one reserved at one of its locations."""
        if not self.scoped:
            return True
        if self.channels is not None and channel in self.channels:
            return True
        return self.locations is not None and any(code in self.locations for code in locations)


SYSTEM = Principal(name="system", role=Role.ADMIN)
