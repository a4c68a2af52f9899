"""`omnistock rollout`: shadow and pilot modes from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from omnistock.sync import rollout

rollout_app = typer.Typer(help="Shadow and pilot rollout of a channel.", no_args_is_help=True)


@rollout_app.command("mode")
def mode(channel: str, mode: Annotated[str, typer.Argument(help="live, shadow or pilot.")],
         reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")],
         sku: Annotated[list[str] | None, typer.Option(help="A pilot SKU (repeatable).")] = None) -> None:
    """Switch a channel to live, shadow (push nothing) or pilot (push only the given SKUs)."""
    from omnistock.cli import in_transaction, operator, out

    result = in_transaction(lambda s: rollout.set_mode(s, channel, mode, sku or [], reason, operator()))
    out.print(f"{result['channel']}: {result['mode']}" + (f" ({', '.join(result['pilot_skus'])})"
                                                          if result["pilot_skus"] else ""))


@rollout_app.command("compare")
def compare(channel: str) -> None:
    """Read the platform and record every listing that shows something other than omnistock would."""
    from omnistock.cli import database, handled, operator, out

    db = database()
    try:
        with handled():
            diffs = rollout.compare(db, db.settings, channel, operator())
    finally:
        db.dispose()
    table = Table("Id", "SKU", "Platform item", "omnistock", "Platform", "Explanation")
    for d in diffs:
        table.add_row(str(d.id), d.sku or "-", d.external_id, str(d.expected), str(d.platform), d.explanation or "")
    out.print(table)
    out.print(f"{len(diffs)} difference(s)")


@rollout_app.command("explain")
def explain(channel: str, difference_id: Annotated[int, typer.Argument(help="Its id (compare, report).")],
            reason: Annotated[str, typer.Option(help="What explains it.")]) -> None:
    """Explain a difference of the channel (needed before going live)."""
    from omnistock.cli import in_transaction, operator, out

    in_transaction(lambda s: rollout.explain(s, channel, difference_id, reason, operator()))
    out.print(f"{channel}: difference {difference_id} explained")


@rollout_app.command("report")
def report(channel: str) -> None:
    """Per SKU: differences seen during shadow/pilot, and whether all are explained."""
    from omnistock.cli import in_transaction, operator, out

    result = in_transaction(lambda s: rollout.report(s, channel, operator()))
    table = Table("SKU", "Differences", "Unexplained (ids)", "omnistock", "Platform")
    for item in result["items"]:
        ids = ", ".join(str(i) for i in item["unexplained_ids"])
        table.add_row(item["sku"], str(item["differences"]), f"{item['unexplained']} ({ids})" if ids else "0",
                      str(item["last_expected"]), str(item["last_platform"]))
    out.print(table)
    out.print(f"mode {result['mode']}; " + ("ready for live" if result["ready_for_live"]
                                            else f"{result['unexplained']} unexplained difference(s)"))
