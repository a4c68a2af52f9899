"""`omnistock user ...`: the people who sign in to the console."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from omnistock.errors import Invalid
from omnistock.web.tables import User
from omnistock.web.users import create_user

CHANNEL_PREFIX = "channel:"
LOCATION_PREFIX = "location:"

user_app = typer.Typer(help="People who sign in to the web console.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="The name to sign in with.")],
    password: Annotated[str, typer.Option(help="At least 8 characters (stored as an argon2 hash).",
                                          prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[str, typer.Option(help="admin, operator, agent or viewer.")] = "viewer",
    location: Annotated[list[str] | None, typer.Option(help="Limit to this location (repeatable).")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Limit to this channel (repeatable).")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help="Limit to a store location (S1 or location:S1) or a channel (channel:jd); repeatable.")] = None,
) -> None:
    """Create a console user; with --scope (or --location/--channel) the user sees only those (a store manager)."""
    from omnistock.cli import in_transaction, operator, out

    def create(session: Session) -> User:
        # Parsed inside the transaction's error handling, so a bad --scope is a one-line message too.
        locations, channels = scope_of(scope or [], location or [], channel or [])
        return create_user(session, username=username, password=password, role=role, locations=locations or None,
                           channels=channels or None, actor=operator().name)

    user = in_transaction(create)
    sees = ", ".join([*(user.scope_locations or []), *(f"{CHANNEL_PREFIX}{c}" for c in user.scope_channels or [])])
    out.print(f"user {user.username!r} ({user.role}) created; sees {sees or 'everything'}")


def scope_of(scopes: list[str], locations: list[str], channels: list[str]) -> tuple[list[str], list[str]]:
    """The locations and channels of the --scope values (a bare code is a location: the store a manager runs),
    added to those of --location and --channel."""
    locs, chans = list(locations), list(channels)
    for value in scopes:
        into, code = (chans, value.strip()[len(CHANNEL_PREFIX):]) if value.strip().startswith(CHANNEL_PREFIX) \
            else (locs, value.strip().removeprefix(LOCATION_PREFIX))
        if not code.strip():
            raise Invalid(f"--scope {value!r} names no code (use S1, location:S1 or channel:jd)", field="scope")
        into.append(code.strip())
    return locs, chans


@user_app.command("list")
def user_list() -> None:
    """List console users."""
    from omnistock.cli import in_transaction, out

    rows = in_transaction(lambda s: [(u.username, u.role, u.scope_locations, u.scope_channels, u.locked_until)
                                     for u in s.scalars(select(User).order_by(User.username))])
    table = Table("Username", "Role", "Locations", "Channels", "Locked until")
    for name, role, locs, chans, locked in rows:
        table.add_row(name, role, ", ".join(locs or []) or "all", ", ".join(chans or []) or "all",
                      locked.isoformat() if locked else "")
    out.print(table)
