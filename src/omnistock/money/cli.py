"""`omnistock supplier|po|reorder|report|rate|channel-terms`: purchasing and money from the command line."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from omnistock.config import get_settings
from omnistock.domain.reorder import Policy
from omnistock.errors import Invalid
from omnistock.money import currency, profit, purchasing, reorder, stock_value, suppliers, terms
from omnistock.money.currency import Books
from omnistock.money.report_views import profit_view, valuation_view
from omnistock.money.views import amount_text, po_view, supplier_view
from omnistock.money.xlsx import profit_xlsx, valuation_xlsx
from omnistock.store.types import utcnow

T = TypeVar("T")
supplier_app = typer.Typer(help="Suppliers and which SKU is bought from whom.", no_args_is_help=True)
po_app = typer.Typer(help="Purchase orders: create, place, receive, return, cancel.", no_args_is_help=True)
reorder_app = typer.Typer(help="What to order now.", no_args_is_help=True)
report_app = typer.Typer(help="Stock valuation and channel profit.", no_args_is_help=True)
rate_app = typer.Typer(help="Exchange rates per day (to the base currency).", no_args_is_help=True)
terms_app = typer.Typer(help="A channel's platform fee and pre-sale option.", no_args_is_help=True)
GROUPS = ((supplier_app, "supplier"), (po_app, "po"), (reorder_app, "reorder"), (report_app, "report"),
          (rate_app, "rate"), (terms_app, "channel-terms"))


def _run(action: Callable[[Session, Books], T]) -> T:
    # The core CLI imports this module, so its helpers are looked up when a command runs.
    from omnistock import cli as core

    books = Books.of(get_settings())
    return core.in_transaction(lambda s: action(s, books))


def _say(text: str) -> None:
    from omnistock import cli as core

    core.out.print(text, highlight=False)


def _table(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    from omnistock import cli as core

    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    core.out.print(table)


def _money(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid(f"{text!r} is not an amount", field=field) from None
    return value


def _guarded(fn: Callable[[], T]) -> T:
    from omnistock import cli as core

    with core.handled():
        return fn()


def _operator() -> Any:
    from omnistock import cli as core

    return core.operator()


# --- suppliers -----------------------------------------------------------------------------------


@supplier_app.command("add")
def supplier_add(code: str, name: str,
                 currency_code: Annotated[str | None, typer.Option("--currency", help="ISO code; default: base.")]
                 = None,
                 lead_time: Annotated[int, typer.Option(help="Days from order to delivery.")] = 0,
                 contact: Annotated[str | None, typer.Option(help="Who to call.")] = None,
                 tolerance: Annotated[str, typer.Option(help="Over-receipt allowed, in %.")] = "0") -> None:
    """Add a supplier."""
    def action(s: Session, b: Books) -> None:
        spec = suppliers.SupplierSpec(code, name, currency_code or b.base, lead_time, contact,
                                      _money(tolerance, "tolerance"))
        suppliers.create_supplier(s, spec, actor=_operator().name)
    _run(action)
    _say(f"added supplier {code}")


@supplier_app.command("list")
def supplier_list() -> None:
    """List suppliers."""
    views = _run(lambda s, b: [supplier_view(x) for x in suppliers.list_suppliers(s, limit=500).items])
    _table(("Code", "Name", "Currency", "Lead time", "Tolerance %"),
           [(v["code"], v["name"], v["currency"], v["lead_time_days"], v["over_receipt_percent"]) for v in views])


@supplier_app.command("link")
def supplier_link(sku: str, supplier: str,
                  unit_cost: Annotated[str | None, typer.Option(help="Usual price, supplier's currency.")]
                  = None) -> None:
    """Buy SKU from SUPPLIER (reorder drafts go to it)."""
    cost = _guarded(lambda: _money(unit_cost, "unit_cost")) if unit_cost is not None else None
    _run(lambda s, b: suppliers.set_sku_supplier(s, sku, supplier, cost, actor=_operator().name))
    _say(f"{sku} is bought from {supplier}")


# --- purchase orders -----------------------------------------------------------------------------


def _po_lines(values: list[str]) -> list[purchasing.PoLineSpec]:
    lines = []
    for i, value in enumerate(values):
        sku, _, rest = value.partition("*")
        qty, _, priced = rest.partition("@")
        cost, _, code = priced.partition(":")  # SKU*QTY@COST:USD prices one line in its own currency
        if not qty.isdigit() or not cost:
            raise Invalid(f"line {value!r} must look like SKU*QTY@UNIT_COST[:CURRENCY]", field=f"lines[{i}]")
        lines.append(purchasing.PoLineSpec(sku.strip(), int(qty), _money(cost, f"lines[{i}].unit_cost"),
                                           code.strip().upper() or None))
    return lines


def _qty_lines(values: list[str]) -> list[purchasing.QtySpec]:
    lines = []
    for i, value in enumerate(values):
        sku, _, qty = value.partition("*")
        if not qty.isdigit():
            raise Invalid(f"line {value!r} must look like SKU*QTY", field=f"lines[{i}]")
        lines.append(purchasing.QtySpec(sku.strip(), int(qty)))
    return lines


def _show_po(view: dict[str, Any]) -> None:
    _say(f"PO {view['id']} · {view['supplier']} · {view['status']} · {view['currency']}")
    _table(("SKU", "Ordered", "Received", "Returned", "Outstanding", "Unit cost"),
           [(ln["sku"], ln["qty"], ln["received"], ln["returned"], ln["outstanding"],
             f"{ln['unit_cost']} {ln['currency']}") for ln in view["lines"]])


LineOpt = Annotated[list[str], typer.Option("--line", help="SKU*QTY (repeatable).")]
LocationOpt = Annotated[str, typer.Option("--location", "-l", help="Location code.")]


@po_app.command("create")
def po_create(supplier: str,
              line: Annotated[list[str], typer.Option("--line", help="SKU*QTY@UNIT_COST[:CURRENCY] (repeatable).")],
              currency_code: Annotated[str | None, typer.Option("--currency", help="Default: supplier's.")] = None,
              location: Annotated[str | None, typer.Option(help="Where the goods are expected.")] = None,
              draft: Annotated[bool, typer.Option("--draft", help="Keep it a draft (not on order).")] = False,
              note: Annotated[str | None, typer.Option(help="Free text.")] = None) -> None:
    """Create a purchase order (ordered unless --draft)."""
    spec = _guarded(lambda: purchasing.PoSpec(supplier, _po_lines(line), currency_code, location,
                                              "draft" if draft else "ordered", note))
    _show_po(_run(lambda s, b: po_view(purchasing.create_po(s, spec, _operator()), b.zone)))


@po_app.command("list")
def po_list(status: Annotated[str | None, typer.Option(help="Only this status.")] = None) -> None:
    """List purchase orders, newest first."""
    views = _run(lambda s, b: [po_view(p, b.zone) for p in purchasing.list_pos(s, status=status, limit=500).items])
    _table(("Id", "Supplier", "Status", "Currency", "Lines", "Outstanding"),
           [(v["id"], v["supplier"], v["status"], v["currency"], len(v["lines"]),
             sum(ln["outstanding"] for ln in v["lines"])) for v in views])


@po_app.command("show")
def po_show(po_id: int) -> None:
    """Show one purchase order."""
    _show_po(_run(lambda s, b: po_view(purchasing.get_po(s, po_id), b.zone)))


@po_app.command("place")
def po_place(po_id: int) -> None:
    """Send a draft to the supplier: its lines are on order from now on."""
    _show_po(_run(lambda s, b: po_view(purchasing.place(s, po_id, _operator()), b.zone)))


@po_app.command("receive")
def po_receive(po_id: int, location: LocationOpt, line: LineOpt,
               reason: Annotated[str | None, typer.Option(help="Delivery note...")] = None) -> None:
    """Receive a delivery against a purchase order."""
    lines = _guarded(lambda: _qty_lines(line))
    _show_po(_run(lambda s, b: po_view(purchasing.receive(s, b, po_id, location, lines, _operator(),
                                                          reason=reason), b.zone)))


@po_app.command("return")
def po_return(po_id: int, location: LocationOpt, line: LineOpt,
              reason: Annotated[str | None, typer.Option(help="Why the goods go back.")] = None) -> None:
    """Send received goods back to the supplier."""
    lines = _guarded(lambda: _qty_lines(line))
    _show_po(_run(lambda s, b: po_view(purchasing.return_goods(s, b, po_id, location, lines, _operator(),
                                                               reason=reason), b.zone)))


@po_app.command("cancel")
def po_cancel(po_id: int, reason: Annotated[str | None, typer.Option(help="Why.")] = None) -> None:
    """Cancel what is still expected on a purchase order."""
    _show_po(_run(lambda s, b: po_view(purchasing.cancel(s, po_id, _operator(), reason), b.zone)))


# --- reorder -------------------------------------------------------------------------------------


@reorder_app.command("suggest")
def reorder_suggest(window: Annotated[int, typer.Option(help="Days of sales that set the rate.")] = 28,
                    cover: Annotated[int, typer.Option(help="Days one delivery should last.")] = 14,
                    show_all: Annotated[bool, typer.Option("--all", help="Every SKU, not only those to order.")]
                    = False,
                    draft: Annotated[bool, typer.Option("--draft", help="Draft one PO per supplier.")] = False) -> None:
    """What to order now, and when stock runs out."""
    policy = _guarded(lambda: Policy(window, cover))

    def action(s: Session, b: Books) -> tuple[list[reorder.ReorderLine], list[dict[str, Any]], list[str]]:
        lines = reorder.suggestions(s, b, policy, utcnow(), only_needed=not show_all)
        if not draft:
            return lines, [], []
        drafts, orphans = reorder.draft_orders(s, lines, _operator())
        return lines, [po_view(p, b.zone) for p in drafts], orphans
    lines, drafts, orphans = _run(action)
    _table(("SKU", "Supplier", "Sold/day", "Free", "On order", "Lead days", "Order now", "Runs out"),
           [(ln.suggestion.sku, ln.supplier or "-", amount_text(ln.suggestion.daily_rate.quantize(Decimal("0.01"))),
             ln.free, ln.on_order, ln.lead_time_days, ln.suggestion.order_qty, ln.suggestion.runs_out)
            for ln in lines])
    for view in drafts:
        _say(f"drafted PO {view['id']} for {view['supplier']} ({len(view['lines'])} lines)")
    if orphans:
        _say(f"no supplier for: {', '.join(orphans)} (link one with `omnistock supplier link`)")


# --- reports -------------------------------------------------------------------------------------


XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Also write the report to this Excel file.")]


@report_app.command("valuation")
def report_valuation(at: Annotated[str | None, typer.Option(help="A date (end of day) or ISO time.")] = None,
                     xlsx: XlsxOpt = None) -> None:
    """What the stock is worth (moving-average cost, base currency)."""
    def action(s: Session, b: Books) -> tuple[dict[str, Any], bytes]:
        v = stock_value.valuation(s, b, stock_value.moment(b, at, utcnow()))
        return valuation_view(v, b.zone), valuation_xlsx(v)
    view, data = _run(action)
    _table(("SKU", "On hand", f"Unit cost ({view['currency']})", "Value"),
           [(i["sku"], i["on_hand"], i["unit_cost"], i["value"]) for i in view["items"]])
    _say(f"total {view['total']} {view['currency']} at {view['at']}")
    if xlsx:
        xlsx.write_bytes(data)
        _say(f"wrote {xlsx}")


@report_app.command("profit")
def report_profit(start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
                  end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
                  by: Annotated[str, typer.Option(help="channel or sku.")] = "channel",
                  xlsx: XlsxOpt = None) -> None:
    """Revenue, fees, cost of goods, compensation and margin per channel or SKU."""
    first = _guarded(lambda: currency.parse_day(start, field="from"))
    last = _guarded(lambda: currency.parse_day(end, field="to"))

    def action(s: Session, b: Books) -> tuple[dict[str, Any], bytes]:
        r = profit.profit(s, b, first, last, by)
        return profit_view(r), profit_xlsx(r)
    view, data = _run(action)
    rows = [(r[by], r["revenue"], r["fees"], r["cogs"], r["compensation"], r["margin"], r["oversell_cost"])
            for r in view["rows"]]
    t = view["total"]
    rows.append(("Total", t["revenue"], t["fees"], t["cogs"], t["compensation"], t["margin"], t["oversell_cost"]))
    _table((by.capitalize(), "Revenue", "Fees", "Cost of goods", "Compensation", "Margin", "Oversells"), rows)
    if view["compensation_source"] is None:
        _say("compensation: no complaint desk installed, shown as 0")
    if xlsx:
        xlsx.write_bytes(data)
        _say(f"wrote {xlsx}")


# --- rates and channel terms ---------------------------------------------------------------------


@rate_app.command("set")
def rate_set(currency_code: Annotated[str, typer.Argument(metavar="CURRENCY")], rate: str,
             day: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today.")] = None) -> None:
    """Units of the base currency one unit of CURRENCY buys on DAY."""
    value = _guarded(lambda: currency.parse_rate(rate))

    def action(s: Session, b: Books) -> str:
        when = currency.parse_day(day) if day else b.day_of(utcnow())
        currency.set_rate(s, b, day=when, currency=currency_code.upper(), rate=value, actor=_operator().name)
        return f"1 {currency_code.upper()} = {rate} {b.base} on {when.isoformat()}"
    _say(_run(action))


@rate_app.command("import")
def rate_import(path: Path) -> None:
    """Import a CSV file with the header day,currency,rate."""
    text = _guarded(lambda: _read_text(path))
    count = _run(lambda s, b: currency.import_rates(s, b, text, actor=_operator().name))
    _say(f"imported {count} rates")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}", field="file") from None


@rate_app.command("list")
def rate_list(currency_code: Annotated[str | None, typer.Option("--currency")] = None) -> None:
    """List entered rates, newest first."""
    rows = _run(lambda s, b: [(r.day, r.currency, amount_text(r.rate), r.base)
                              for r in currency.list_rates(s, b, currency=currency_code, limit=500).items])
    _table(("Day", "Currency", "Rate", "Base"), rows)


@terms_app.command("set")
def terms_set(channel: str, fee_percent: Annotated[str | None, typer.Option(help="Platform fee, % of revenue.")] = None,
              presale: Annotated[bool | None, typer.Option("--presale/--no-presale", help="Sell on-order stock.")]
              = None) -> None:
    """Set a channel's platform fee and pre-sale option."""
    fee = _guarded(lambda: _money(fee_percent, "fee_percent")) if fee_percent is not None else None
    code, row = _run(lambda s, b: terms.set_terms(s, channel, fee_percent=fee, presale=presale,
                                                  actor=_operator().name))
    _say(f"{code}: fee {amount_text(row.fee_percent)} %, pre-sale {'on' if row.presale else 'off'}")
