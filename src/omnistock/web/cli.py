"""`omnistock user ...`: the people who sign in to the console."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from omnistock.web.tables import User
from omnistock.web.users import create_user

user_app = typer.Typer(help="People who sign in to the web console.", no_args_is_help=True)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="The name to sign in with.")],
    password: Annotated[str, typer.Option(help="At least 8 characters (stored as an argon2 hash).",
                                          prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[str, typer.Option(help="admin, operator, agent or viewer.")] = "viewer",
    location: Annotated[list[str] | None, typer.Option(help="Limit to this location (repeatable).")] = None,
    channel: Annotated[list[str] | None, typer.Option(help="Limit to this channel (repeatable).")] = None,
) -> None:
    """Create a console user; with --location/--channel the user sees only those (a store manager)."""
    from omnistock.cli import in_transaction, operator, out

    user = in_transaction(lambda s: create_user(s, username=username, password=password, role=role,
                                                locations=location, channels=channel, actor=operator().name))
    scope = ", ".join([*(user.scope_locations or []), *(user.scope_channels or [])]) or "everything"
    out.print(f"user {user.username!r} ({user.role}) created; sees {scope}")


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
