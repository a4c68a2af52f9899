"""Turning runs into results: one summary per strategy, the goals of the issue checked as PASS/FAIL lines, the
machine-readable JSON and the Markdown section of docs/BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from _common import markdown_table

from flash import measure
from flash.run import RunResult
from flash.scenario import PLATFORMS, Catalogue, Demand, Shape

GOAL_LOST_SHARE = 0.02  # realtime-partition may lose at most this share of the hot stock
GOAL_P99_S = 1.0
GOAL_FACTOR = 100  # realtime-* oversell at least this many times less than periodic-5min


@dataclass(frozen=True)
class Summary:
    name: str
    oversold_units: int  # held for insufficient stock in omnistock
    true_oversold: int  # the simulator's count, to check the one above
    lost_sales_units: int  # every SKU
    hot_lost: int
    hot_stock: int
    sell_through: float  # hot SKUs
    delays: list[measure.Delay]
    by_platform: dict[str, list[measure.Delay]]  # platform -> its delay for each change it did not make
    engine_ms: list[int]
    orders: int  # platform orders accepted
    omnistock_orders: int
    api_calls: int
    api_calls_by_op: dict[str, int]
    cpu_s: float
    settle_s: float
    webhooks_failed: int
    webhooks_lost: int
    shoppers_late_p99_s: float
    period_s: float | None
    phase_s: float | None

    def delay(self, q: float) -> float:
        return measure.percentile([d.seconds for d in self.delays], q)

    @property
    def censored(self) -> int:
        return sum(d.censored for d in self.delays)

    @property
    def api_calls_per_order(self) -> float:
        return self.api_calls / self.orders if self.orders else 0.0


def summarize(result: RunResult, cat: Catalogue) -> Summary:
    per_sku = measure.sales(cat.stock, result.outcomes)
    per_change = measure.propagation_by_platform(result.changes, result.displays, result.until)
    by_platform: dict[str, list[measure.Delay]] = {p: [] for p in PLATFORMS}
    for delays in per_change:
        for platform, delay in delays.items():
            by_platform[platform].append(delay)
    return Summary(
        name=result.strategy.name, oversold_units=result.held_units,
        true_oversold=sum(s.oversold for s in per_sku.values()),
        lost_sales_units=sum(s.lost for s in per_sku.values()),
        hot_lost=sum(per_sku[h].lost for h in cat.hot), hot_stock=sum(cat.stock[h] for h in cat.hot),
        sell_through=measure.sell_through(per_sku, cat.hot),
        delays=measure.propagation(result.changes, result.displays, result.until), by_platform=by_platform,
        engine_ms=result.engine_propagation_ms, orders=result.platform_orders,
        omnistock_orders=result.omnistock_orders, api_calls=result.api_calls, api_calls_by_op=result.api_calls_by_op,
        cpu_s=result.cpu_s, settle_s=result.settle_s, webhooks_failed=result.webhooks_failed,
        webhooks_lost=result.webhooks_lost, shoppers_late_p99_s=measure.percentile(result.shoppers_late_s, 99),
        period_s=result.period_s, phase_s=result.phase_s)


def as_json(summaries: Sequence[Summary]) -> dict[str, Any]:
    return {"strategies": {s.name: {
        "oversold_units": int(s.oversold_units), "lost_sales_units": int(s.lost_sales_units),
        "sell_through": float(s.sell_through), "propagation_p50_s": float(s.delay(50)),
        "propagation_p99_s": float(s.delay(99)), "api_calls_per_order": float(s.api_calls_per_order),
    } for s in summaries}}


def goals(summaries: Sequence[Summary]) -> list[tuple[bool, str]]:
    by_name = {s.name: s for s in summaries}
    out: list[tuple[bool, str]] = []
    part = by_name.get("realtime-partition")
    if part is not None:
        limit = GOAL_LOST_SHARE * part.hot_stock
        out.append((part.oversold_units == 0 and part.hot_lost <= limit,
                    f"realtime-partition oversells 0 units (got {part.oversold_units}) and loses at most "
                    f"{GOAL_LOST_SHARE:.0%} of the hot stock, {limit:.0f} units (got {part.hot_lost})"))
    base = by_name.get("periodic-5min")
    for name in ("realtime-shared", "realtime-partition"):
        s = by_name.get(name)
        if s is None:
            continue
        p99 = s.delay(99)
        out.append((p99 <= GOAL_P99_S and not s.censored,
                    f"{name} propagation p99 at most {GOAL_P99_S:g} s (got {_seconds(p99, s.censored > 0)})"))
        if base is not None:
            ok = base.oversold_units > 0 and s.oversold_units * GOAL_FACTOR <= base.oversold_units
            out.append((ok, f"{name} oversells at least {GOAL_FACTOR}× less than periodic-5min "
                            f"({s.oversold_units} vs {base.oversold_units} units)"))
    return out


def _seconds(value: float, lower_bound: bool) -> str:
    return f"{'≥ ' if lower_bound else ''}{value:.2f} s"


COLUMNS = ("strategy", "oversold units", "lost sales units (hot)", "hot sell-through",
           "propagation p50 / p95 / p99 / max (s)", "API calls per order", "omnistock CPU s (ms per order)")


def row(s: Summary) -> tuple[str, ...]:
    mark = "≥ " if s.censored else ""
    prop = " / ".join(f"{s.delay(q):.2f}" for q in (50, 95, 99, 100))
    per_order = s.cpu_s / s.orders * 1000 if s.orders else 0.0
    oversold = f"{s.oversold_units:,}" + (f" (simulator: {s.true_oversold:,})" if s.true_oversold != s.oversold_units
                                          else "")
    return (s.name, oversold, f"{s.lost_sales_units:,} ({s.hot_lost:,})", f"{s.sell_through:.1%}",
            mark + prop, f"{s.api_calls_per_order:.2f}", f"{s.cpu_s:.1f} ({per_order:.1f})")


def section(facts_md: str, shape: Shape, cat: Catalogue, demand: Demand, seed: int, threshold: int, database: str,
            summaries: Sequence[Summary], image: str, table_md: str) -> str:
    hot_demand = sum(a.qty for a in demand.arrivals if a.sku in cat.hot)
    ordinary = len(demand.arrivals) - sum(1 for a in demand.arrivals if a.sku in cat.hot)
    splits = "; ".join(f"{sku}: " + ", ".join(f"{p} {share:.0%}" for p, share in sorted(
        split.items(), key=lambda kv: -kv[1])) for sku, split in demand.hot_split.items())
    timers = "; ".join(f"{s.name} every {s.period_s:g} s, first export {s.phase_s:.1f} s into the sale"
                       for s in summaries if s.period_s is not None and s.phase_s is not None)
    lines = [
        facts_md, "",
        f"Scenario `{shape.name}`, seed {seed}: 5 simulated platforms (shopify, woocommerce, taobao, jd, douyin) "
        f"over HTTP on loopback, every API call {shape.latency_ms[0]}–{shape.latency_ms[1]} ms, each platform's "
        "rate limit as the simulator documents it (Shopify 100/s, WooCommerce 20/s, Taobao 5/s, JD 10/s, "
        "Douyin 10/s). Shopify, WooCommerce and Douyin send order webhooks "
        f"{shape.webhook_delay_s[0]:g}–{shape.webhook_delay_s[1]:g} s late, in any order, "
        f"{shape.webhook_loss:.0%} never and {shape.webhook_duplicates:.0%} twice; every channel's orders are also "
        f"polled every {shape.poll_s:g} s (the only intake of Taobao and JD, and the net for lost webhooks).",
        "",
        f"{len(cat.stock) - len(cat.hot)} ordinary SKUs ({shape.ordinary_stock[0]}–{shape.ordinary_stock[1]} units, "
        f"{ordinary} ordinary orders) and {len(cat.hot)} hot SKUs of {shape.hot_stock} units with "
        f"{hot_demand:,} units of demand ({shape.demand_factor:g}× their stock) within the {shape.sale_s:g} s sale, "
        f"Poisson arrivals pre-generated from the seed and replayed identically for every strategy ({splits}). "
        f"Observation runs {shape.tail_s:g} s past the last shopper. Each strategy starts from a fresh "
        + ("SQLite database (WAL, the embedded default)" if database == "sqlite" else
           "PostgreSQL database (whose server's CPU is not in omnistock's figure)")
        + ", fresh shops and a fresh omnistock process (the API, which takes the webhooks, plus the sync engine as "
        "`omnistock serve` runs it, or the periodic export); its CPU time is read from /proc (user + system, all "
        "its threads) from the sale's start until every platform order had been taken in. The simulator and the "
        "shoppers run in the benchmark's own process.",
        "",
        "- `periodic-*`: a scheduled export reads the available stock and sets every listing on every platform to "
        "all of it, within each platform's rate limit (one thread per platform); omnistock still takes every order "
        "in (webhooks and the same polls) but pushes nothing itself. Its timer does not start with the sale: the "
        f"phase is drawn from the seed ({timers})"
        + (f"; the {shape.sale_s:g} s sale compresses the periods by {shape.time_scale:g}× so that it sees as many "
           "exports as the 60 s sale would." if shape.time_scale != 1 else "."),
        "- `realtime-shared`: omnistock's sync engine, every platform shown all available stock.",
        f"- `realtime-partition`: the same engine with `PUT /api/v1/channels/{{code}}/policy` "
        f"`{{\"kind\": \"partition\", \"threshold\": {threshold}}}` on every channel"
        + (": the hot SKUs are partitioned before the sale starts (with a lower threshold they would first be "
           "shared, and the sales the platforms make before omnistock hears of them, several seconds' worth at "
           "this demand, would have to fit in the threshold), and so is every ordinary SKU with at most that "
           "much stock." if threshold >= shape.hot_stock else "."),
        "",
        table_md, "",
        "*oversold*: units of orders a platform accepted that omnistock had to hold for insufficient stock (when "
        "omnistock had not taken every order in by the end, the simulator's own count of units sold beyond the "
        "stock follows in brackets). "
        "*lost sales*: units left unsold at the end although a platform refused a shopper while they were still "
        "unsold (all SKUs; hot SKUs in brackets). *propagation*: for each ledger change (a SKU's available falls to "
        "*a*), the time until every platform other than the one that sold shows at most *a*, read from the "
        "simulator's display history; ≥ marks a lower bound, when some change was still not visible at the end of "
        "observation. Under partition the other platforms' quotas already add up to no more than is available, so "
        "a sale usually needs no push elsewhere and is visible at once; the engine's own push latency is in the "
        "details below. *API calls per order*: every platform API call (pushes, order polls, reads) during "
        "observation over the orders the platforms accepted.",
        "",
        _details(summaries), "",
        _per_platform(summaries), "",
        "### Goals", "",
        *[f"- {'PASS' if ok else 'FAIL'}: {text}" for ok, text in goals(summaries)], "",
        f"![Shown vs true stock of {cat.hot[0]} per platform and strategy]({image})", "",
        f"Displayed quantity of {cat.hot[0]} on each platform (thin lines) against what was truly left (black: "
        "opening stock minus every unit any platform sold, below zero when oversold) and omnistock's available "
        "(grey dashes: what omnistock knew of).",
    ]
    return "\n".join(lines)


def _details(summaries: Sequence[Summary]) -> str:
    rows: list[tuple[str, ...]] = []
    for s in summaries:
        engine = (f"{measure.percentile(s.engine_ms, 50):.0f} / {measure.percentile(s.engine_ms, 99):.0f}"
                  if s.engine_ms else "–")
        ops = ", ".join(f"{op} {n}" for op, n in s.api_calls_by_op.items()) or "–"
        rows.append((s.name, f"{s.orders:,}", f"{s.omnistock_orders:,}", f"{s.true_oversold:,}",
                     f"{s.webhooks_lost:,} / {s.webhooks_failed:,}", f"{len(s.delays):,} ({s.censored:,})", engine,
                     ops, f"{s.settle_s:.1f}", f"{s.shoppers_late_p99_s:.2f}"))
    header = ("strategy", "platform orders", "taken in by omnistock", "oversold (simulator's count)",
              "webhooks never sent / attempts unanswered", "ledger changes (not visible by the end)",
              "engine-recorded push latency p50 / p99 ms", "API calls", "fill before the sale s",
              "shoppers late p99 s")
    return ("Details. *engine-recorded push latency* is omnistock's own `platform_calls.propagation_ms`, from the "
            "stock change that marked a listing to the platform's answer. *shoppers late*: how far behind the script "
            "the shoppers came (the replay runs in the benchmark's process beside the simulator; on a busy machine "
            "it falls behind and shoppers bunch up).\n\n" + markdown_table(header, rows))


def _per_platform(summaries: Sequence[Summary]) -> str:
    rows: list[tuple[str, ...]] = []
    for s in summaries:
        cells = []
        for platform in PLATFORMS:
            delays = s.by_platform.get(platform, [])
            seconds = [d.seconds for d in delays]
            mark = "≥ " if any(d.censored for d in delays) else ""
            cells.append(f"{mark}{measure.percentile(seconds, 50):.2f} / {measure.percentile(seconds, 99):.2f}"
                         if delays else "–")
        rows.append((s.name, *cells))
    return ("Propagation per platform, p50 / p99 seconds: the time until that platform shows at most the new "
            "available after a change it did not make (the slowest of them makes the figure above).\n\n"
            + markdown_table(("strategy", *PLATFORMS), rows))
