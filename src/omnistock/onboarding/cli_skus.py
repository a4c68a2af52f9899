"""Commands added to `omnistock sku`: aliases, probable duplicates and merging a duplicate into its survivor."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from omnistock import cli as core
from omnistock.onboarding import aliases, duplicates, merge

alias_app = typer.Typer(help="Other codes of a SKU (old ERP code, platform codes).", no_args_is_help=True)


@alias_app.command("add")
def alias_add(sku: str, alias: str,
              source: Annotated[str, typer.Option(help="manual, erp, platform or import.")] = "manual") -> None:
    """Let ALIAS mean SKU wherever a SKU code is accepted."""
    view = core.in_transaction(lambda s: aliases.add_alias(s, sku, alias, source=source, actor=core.operator().name))
    core.out.print(f"{view.alias} now means {view.sku}")


@alias_app.command("remove")
def alias_remove(alias: str, reason: Annotated[str | None, typer.Option(help="Why (audited).")] = None) -> None:
    """Forget an alias."""
    core.in_transaction(lambda s: aliases.remove_alias(s, alias, actor=core.operator().name, reason=reason))
    core.out.print(f"removed alias {alias}")


@alias_app.command("list")
def alias_list(sku: Annotated[str | None, typer.Argument(help="Only this SKU's aliases.")] = None) -> None:
    """List aliases."""
    views = core.in_transaction(lambda s: aliases.list_aliases(s, sku))
    table = Table("Alias", "SKU", "Source")
    for v in views:
        table.add_row(v.alias, v.sku, v.source)
    core.out.print(table)


def sku_duplicates() -> None:
    """Probable duplicates (same barcode, or same name once width, spaces, case and 规格 order are ignored)."""
    groups = core.in_transaction(duplicates.find_duplicates)
    table = Table("Keep", "Merge into it", "Why")
    for g in groups:
        table.add_row(g.survivor, ", ".join(g.duplicates), g.reason)
    core.out.print(table)
    core.out.print(f"{len(groups)} group(s); merge with `omnistock sku merge KEEP DUPLICATE --reason ...`")


def sku_merge(survivor: str, duplicate: str,
              reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")]) -> None:
    """Move DUPLICATE's moves, stock, reservations, order lines, listings and aliases to SURVIVOR."""
    result = core.in_transaction(lambda s: merge.merge_skus(s, survivor, duplicate, reason=reason,
                                                           actor=core.operator().name))
    moved = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.moved.items() if n)
    core.out.print(f"merged {result.duplicate} into {result.survivor} ({moved or 'nothing to move'}); "
                   f"{result.duplicate} is now an alias of {result.survivor}")


def add_sku_commands(sku_app: typer.Typer) -> None:
    sku_app.add_typer(alias_app, name="alias")
    sku_app.command("duplicates")(sku_duplicates)
    sku_app.command("merge")(sku_merge)
